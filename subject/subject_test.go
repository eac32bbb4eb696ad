package subject

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKey(t *testing.T) {
	for _, tt := range []struct {
		name string
		id   ID
		key  string
		ok   bool
	}{
		{"Example  LTD\u3000", ID{}, "name:example ltd", true},
		{"示例（杭州）科技有限公司", ID{}, "name:示例(杭州)科技有限公司", true},
		{"", ID{Type: CertUSCC, Number: "91110000600037341l"}, "id:600037341", true},
		{"Example", ID{Type: CertResidentID, Number: "44011320141005001x"}, "id:44011320141005001X", true},
		{"\u202eX", ID{Type: CertOther, Number: "e1234-5678"}, "id:E12345678", true},
		{"Example Co., Ltd.", ID{}, "name:example co.,ltd.", true},
		{"", ID{}, "", false},
		{"\u202eX", ID{}, "", false},
		{"X", ID{Type: CertUSCC, Number: "91110000600037341N"}, "", false},
		{"X", ID{Number: "91110000600037341L"}, "", false},
	} {
		key, ok := Key(tt.name, tt.id)
		assert.Equal(t, tt.ok, ok, "%q %+v", tt.name, tt.id)
		assert.Equal(t, tt.key, key, "%q %+v", tt.name, tt.id)
	}
}

func TestValidName(t *testing.T) {
	for _, name := range []string{
		"杭州示例科技有限公司", "Example  LTD\u3000", "示例（杭州）科技有限公司\u3000", "Café Co", "ΟΔΟΣ", "\u200b杭州\ufeff",
		"", " \t\u3000", "\u200b", "\u202eX", "a\xffb", "示例\x00公司", "A\vB", "示例\u2067公司",
		strings.Repeat("A", maxNameKey), strings.Repeat("A", maxNameKey+1), strings.Repeat("A ", maxNameKey/2) + "  ",
		strings.Repeat("A", maxNameKey-1) + " B", "A" + strings.Repeat("   A", maxNameKey/2-1) + "B",
		"A" + strings.Repeat("   A", maxNameKey/2) + "B", strings.Repeat(" ", maxNameInput-1) + "A",
		strings.Repeat(" ", maxNameInput) + "A", strings.Repeat("公", maxNameKey/3+1), strings.Repeat("ﬃ", maxNameKey/3+1),
	} {
		_, ok := nameKey(name)
		assert.Equal(t, ok, ValidName(name), "%q", name)
	}
	for _, name := range []string{"杭州示例科技有限公司", "example tech co., ltd.", "Example Tech (Hangzhou) Co., Ltd.", " example\t ltd "} {
		n := testing.AllocsPerRun(100, func() {
			if !ValidName(name) {
				t.Fatal(name)
			}
		})
		assert.Zero(t, n, name)
	}
}
