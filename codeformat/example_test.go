package codeformat_test

import (
	"bytes"
	"fmt"

	"github.com/icpfiling/icpverify/codeformat"
)

func ExampleNormalize() {
	for _, typed := range []string{
		"60rk 4csm 6mv3 ee1p", // lower case, spaces
		"6ORK-4CSM-6MV3-EE1P", // O for 0
		"60RK-4CSM-6MV3-EE1Q", // check symbol wrong
		"60RK-4CSM-6MV3",      // too short
	} {
		code, ok := codeformat.Normalize(typed)
		fmt.Printf("%q %v\n", code, ok)
	}
	// Output:
	// "60RK-4CSM-6MV3-EE1P" true
	// "60RK-4CSM-6MV3-EE1P" true
	// "" false
	// "" false
}

func ExampleMask() {
	fmt.Println(codeformat.Mask(nil, "60rk-4csm-6mv3-ee1p"))
	fmt.Println(codeformat.Mask(nil, "not a code"))
	inv := codeformat.Inventory(codeformat.InventoryOptions{})
	fmt.Println(codeformat.Mask(inv, "4f9f0d9c-5b3e-4a1b-9c2d-77aa0e1f3b6c"))
	// Output:
	// ****-****-****-EE1P
	// ****
	// ********-****-****-****-********3B6C
}

func ExampleDefault() {
	f := codeformat.Default()
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

func ExampleInventory() {
	// A provider whose console shows codes as groups of hex digits.
	f := codeformat.Inventory(codeformat.InventoryOptions{MinSymbols: 32, MaxSymbols: 32})
	for _, typed := range []string{
		"4f9f0d9c-5b3e-4a1b-9c2d-77aa0e1f3b6c",
		" 4F9F0D9C－5B3E－4A1B－9C2D－77AA0E1F3B6C\n", // a full-width dash, a line break
		"4f9f0d9c-5b3e-4a1b-9c2d",                 // too short
	} {
		c, ok := f.Normalize(typed)
		fmt.Printf("%q %v\n", c, ok)
	}
	// A provider of 20 letters and digits, however the user groups them.
	g := codeformat.Inventory(codeformat.InventoryOptions{MinSymbols: 20, MaxSymbols: 20, IgnoreDashes: true})
	c, ok := g.Normalize("a1b2 c3d4 e5f6 g7h8 j9k0")
	fmt.Printf("%q %v\n", c, ok)
	// Output:
	// "4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C" true
	// "4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C" true
	// "" false
	// "A1B2C3D4E5F6G7H8J9K0" true
}
