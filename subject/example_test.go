package subject_test

import (
	"fmt"

	"github.com/icpfiling/icpverify/subject"
)

func ExampleNormalize() {
	for _, id := range []subject.ID{
		// A unified social credit code typed with an input method.
		{Type: subject.CertUSCC, Number: "９１３５０１００ｍ０００１００ｙ４３"},
		// A resident identity number, grouped, with a small x.
		{Type: subject.CertResidentID, Number: "440113 20141005 001x"},
		// One symbol wrong: the check character does not match.
		{Type: subject.CertUSCC, Number: "91110000600037341N"},
		// A passport number, unchecked.
		{Type: subject.CertPassport, Number: " e1234-5678 "},
		// A first-generation resident ID, in its 18-digit form.
		{Type: subject.CertResidentID, Number: "110105491231002"},
		// A Hong Kong resident's travel permit.
		{Type: subject.CertHKMacauPermit, Number: "h1234567801"},
	} {
		canonical, ok := subject.Normalize(id)
		fmt.Printf("%s %q %v\n", canonical.Type, canonical.Number, ok)
	}
	// Output:
	// uscc "91350100M000100Y43" true
	// resident_id "44011320141005001X" true
	//  "" false
	// passport "E12345678" true
	// resident_id "11010519491231002X" true
	// hk_macau_permit "H1234567801" true
}

func ExampleKey() {
	// A company named by its unified social credit code: the name is
	// shown, not keyed.
	fmt.Println(subject.Key("Hangzhou Example Co., Ltd.", subject.ID{Type: subject.CertUSCC, Number: "91110000600037341l"}))
	// Without a certificate, the name: two spellings, one key.
	fmt.Println(subject.Key("示例（杭州）科技有限公司", subject.ID{}))
	fmt.Println(subject.Key(" 示例(杭州)科技有限公司\u3000", subject.ID{}))
	// A name with a right-to-left override is refused.
	fmt.Println(subject.Key("\u202e示例", subject.ID{}))
	// The same company by its organisation code, which its USCC holds.
	fmt.Println(subject.Key("", subject.ID{Type: subject.CertOrgCode, Number: "60003734-1"}))
	// A first-generation resident ID is the 18-digit number of its card.
	fmt.Println(subject.Key("", subject.ID{Type: subject.CertOther, Number: "110105491231002"}))
	fmt.Println(subject.Key("", subject.ID{Type: subject.CertResidentID, Number: "11010519491231002x"}))
	// Output:
	// id:600037341 true
	// name:示例(杭州)科技有限公司 true
	// name:示例(杭州)科技有限公司 true
	//  false
	// id:600037341 true
	// id:11010519491231002X true
	// id:11010519491231002X true
}
