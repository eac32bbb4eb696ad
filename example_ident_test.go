package icpverify_test

import (
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
