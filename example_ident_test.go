package icpverify_test

import (
	"bytes"
	"fmt"

	"github.com/icpfiling/icpverify"
)

func ExampleNormalizeSubjectID() {
	for _, id := range []icpverify.SubjectID{
		// A unified social credit code typed with an input method.
		{Type: icpverify.CertUSCC, Number: "９１３５０１００ｍ０００１００ｙ４３"},
		// A resident identity number, grouped, with a small x.
		{Type: icpverify.CertResidentID, Number: "440113 20141005 001x"},
		// One symbol wrong: the check character does not match.
		{Type: icpverify.CertUSCC, Number: "91110000600037341N"},
		// A passport number, unchecked.
		{Type: icpverify.CertOther, Number: " e1234-5678 "},
	} {
		canonical, ok := icpverify.NormalizeSubjectID(id)
		fmt.Printf("%s %q %v\n", canonical.Type, canonical.Number, ok)
	}
	// Output:
	// uscc "91350100M000100Y43" true
	// resident_id "44011320141005001X" true
	//  "" false
	// other "E12345678" true
}

func ExampleDefaultCodeFormat() {
	f := icpverify.DefaultCodeFormat()
	// A code from a fixed source, for the example; a provider passes
	// crypto/rand.Reader.
	code, err := f.New(bytes.NewReader([]byte("0123456789")))
	if err != nil {
		panic(err)
	}
	fmt.Println(code)
	for _, typed := range []string{
		"60rk-4csm-6mv3-ee1p", // lower case
		"６ＯＲＫ　４ＣＳＭ　６ＭＶ３　ＥＥ１Ｐ", // full-width, ideographic spaces, O for 0
		"60RK-4CSM-6MV3-EE1Q", // check symbol wrong
	} {
		c, ok := f.Normalize(typed)
		fmt.Printf("%q %v\n", c, ok)
	}
	// Output:
	// 60RK-4CSM-6MV3-EE1P
	// "60RK-4CSM-6MV3-EE1P" true
	// "60RK-4CSM-6MV3-EE1P" true
	// "" false
}

func ExampleInventoryCodeFormat() {
	// A provider whose console shows codes as groups of hex digits.
	f := icpverify.InventoryCodeFormat(icpverify.InventoryOptions{MinSymbols: 32, MaxSymbols: 32})
	for _, typed := range []string{
		"4f9f0d9c-5b3e-4a1b-9c2d-77aa0e1f3b6c",
		" 4F9F0D9C－5B3E－4A1B－9C2D－77AA0E1F3B6C\n", // a full-width dash, a line break
		"4f9f0d9c-5b3e-4a1b-9c2d",                 // too short
	} {
		c, ok := f.Normalize(typed)
		fmt.Printf("%q %v\n", c, ok)
	}
	// A provider of 20 letters and digits, however the user groups them.
	g := icpverify.InventoryCodeFormat(icpverify.InventoryOptions{MinSymbols: 20, MaxSymbols: 20, IgnoreDashes: true})
	c, ok := g.Normalize("a1b2 c3d4 e5f6 g7h8 j9k0")
	fmt.Printf("%q %v\n", c, ok)
	// Output:
	// "4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C" true
	// "4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C" true
	// "" false
	// "A1B2C3D4E5F6G7H8J9K0" true
}
