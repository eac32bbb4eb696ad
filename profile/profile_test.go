package profile

import (
	"testing"

	"github.com/icpfiling/icpverify"
)

var all = map[string]func() icpverify.Profile{
	"Alibaba": Alibaba, "Tencent": Tencent, "Huawei": Huawei, "JD": JD, "Baidu": Baidu, "QingCloud": QingCloud,
}

func TestEveryTypeFiles(t *testing.T) {
	for name, p := range all {
		pols := p().Policies
		if len(pols) == 0 {
			t.Errorf("%s: no product type can be filed", name)
		}
		for typ, pol := range pols {
			if pol.SubjectLimit <= 0 || pol.CodeLimit <= 0 {
				t.Errorf("%s: %s cannot be filed: %+v", name, typ, pol)
			}
			if !pol.RequireSubjectID {
				t.Errorf("%s: %s keys subjects by name", name, typ)
			}
		}
	}
}

func TestProfilesAreFresh(t *testing.T) {
	for name, p := range all {
		first := p()
		for typ := range first.Policies {
			first.Policies[typ] = icpverify.Policy{}
		}
		for typ, pol := range p().Policies {
			if pol == (icpverify.Policy{}) {
				t.Errorf("%s: changing one Profile's %s changed the next one's", name, typ)
			}
		}
	}
}

func TestTencentMainland(t *testing.T) {
	tests := map[string]bool{
		"ap-guangzhou": true, "ap-shanghai": true, "ap-beijing": true, "ap-chengdu": true,
		"ap-chongqing": true, "ap-nanjing": true, "ap-shanghai-fsi": true,
		"ap-hongkong": false, "ap-singapore": false, "na-siliconvalley": false,
		"cn-hangzhou": false, "": false, "AP-GUANGZHOU": false,
	}
	for region, want := range tests {
		if got := TencentMainland(region); got != want {
			t.Errorf("TencentMainland(%q) = %v, want %v", region, got, want)
		}
	}
}
