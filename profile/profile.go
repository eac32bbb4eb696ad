// Package profile holds the published rules of the cloud providers that
// issue ICP filing codes, each as an icpverify.Profile that a filing
// backend passes to icpverify.New in one line:
//
//	v := icpverify.New(store, store, icpverify.WithProfile(profile.Tencent()))
//
// Every value set here comes from a rule graded A (the provider's own
// documents) or B (a digest the provider publishes, or an older copy of its
// documents) in the project's research of 2026-12; each function's doc says
// which rules it sets and which stay at the library's defaults because no
// such source was found. A provider adjusts a profile field by field
// before passing it:
//
//	p := profile.Tencent()
//	p.MayIssue = accounts.EnterpriseVerified
//	cvm := p.Policies[profile.CVM]
//	cvm.SubjectLimit = 3
//	p.Policies[profile.CVM] = cvm
//
// Each call returns a new Profile, with a map of its own.
//
// The library counts what it sees: one application is one website filed
// with one service code. Where a provider counts orders or resources
// otherwise, the doc says how its rule is read.
package profile

import (
	"time"

	"github.com/icpfiling/icpverify"
)

// Product types of the providers' catalogues that the profiles name, in
// addition to icpverify.ProductECS and icpverify.ProductSimpleApplicationServer.
const (
	CVM            icpverify.ProductType = "cvm"             // Tencent Cloud Virtual Machine
	Lighthouse     icpverify.ProductType = "lighthouse"      // Tencent Lighthouse (轻量应用服务器)
	SCF            icpverify.ProductType = "scf"             // Tencent Serverless Cloud Function resource pack
	CloudBaseRun   icpverify.ProductType = "cloudbase-run"   // Tencent CloudBase Run (云托管) resource pack
	FlexusL        icpverify.ProductType = "flexus-l"        // Huawei Flexus L application server
	DedicatedCloud icpverify.ProductType = "dedicated-cloud" // Huawei dedicated cloud (专属云)
	VM             icpverify.ProductType = "vm"              // JD Cloud virtual machine (云主机)
)

// month is how long a month of remaining term is taken to be.
const month = 30 * 24 * time.Hour

// server returns the policy most providers publish for a server that
// files: 5 subjects and 5 codes an instance, a subscription of at least 3
// months in the mainland with a public IP, a subject known by its
// certificate. It is icpverify.DefaultPolicy(icpverify.ProductECS).
func server() icpverify.Policy { return icpverify.DefaultPolicy(icpverify.ProductECS) }

// Alibaba returns the rules of Alibaba Cloud (阿里云), which are the
// library's defaults: ECS and Simple Application Server instances issue 5
// codes each, in the mainland, running, with a public IP, as
// subscriptions of at least 3 months; a code files one website for one
// subject and is used for good once filed; the owner grants codes to other
// accounts after issuing them (GrantBsnCode).
//
// Left at the defaults, for want of a source graded A or B: whether an
// abandoned filing voids its code (a third-party page says it does:
// AbandonVoidsCode stays false), how many subjects an account may file for,
// and the codes that virtual hosts and Function Compute packs come with.
func Alibaba() icpverify.Profile {
	return icpverify.Profile{Policies: map[icpverify.ProductType]icpverify.Policy{
		icpverify.ProductECS:                     server(),
		icpverify.ProductSimpleApplicationServer: server(),
	}}
}

// Tencent returns the rules of Tencent Cloud (腾讯云):
//
//   - CVM files and issues codes: at most 5 websites and 5 codes an
//     instance; a subscription of at least 3 months, renewals included,
//     with at least 1 month left while filing; mainland regions only; a
//     public IP.
//   - Lighthouse files under the same terms, 5 websites an instance, but
//     issues no codes for other accounts (OwnerOnly).
//   - A Serverless (SCF) resource pack files 2 websites an account, and a
//     CloudBase Run pack 2 websites a filing IP, with at least 3 months
//     left; neither issues codes for others.
//   - One account files for one subject.
//   - One filing order in progress an account, of at most 10 new
//     websites: the library counts the websites, so an account may have
//     10 applications in progress.
//   - The grantee is named when a code is issued, and never changes
//     (GrantAtIssue); IssueServiceCodeTo issues such a code.
//   - A code is used for good once its filing succeeds; an abandoned
//     filing leaves it for reuse while it is valid.
//   - Mainland regions are Tencent's own region IDs (see TencentMainland).
//
// Only accounts verified as enterprises issue codes, and sub-accounts
// cannot be grantees: the library cannot tell, so the backend sets
// MayIssue to its account service's check. A CLB files only through a
// CVM, so it has no policy of its own. Not held: one SCF pack an account
// (the library knows instances, not packs). Left at the defaults: how
// many subjects an instance serves (5), the term of SCF packs, and the
// code format. The region IDs TencentMainland knows are Tencent's public
// region list, not a filing rule.
func Tencent() icpverify.Profile {
	cvm := server()
	cvm.WebsitesPerInstance = 5
	cvm.MinRemaining = month
	lighthouse := cvm
	lighthouse.OwnerOnly = true
	scf := server()
	scf.WebsitesPerAccount = 2
	scf.OwnerOnly = true
	cloudBase := server()
	cloudBase.WebsitesPerIP = 2
	cloudBase.MinRemaining = 3 * month
	cloudBase.OwnerOnly = true
	return icpverify.Profile{
		Policies: map[icpverify.ProductType]icpverify.Policy{
			CVM: cvm, Lighthouse: lighthouse, SCF: scf, CloudBaseRun: cloudBase,
		},
		SubjectsPerAccount: 1,
		FilingsInProgress:  10,
		Grant:              icpverify.GrantAtIssue,
		Mainland:           TencentMainland,
	}
}

// TencentMainland reports whether region is one of Tencent Cloud's
// mainland regions, by its region ID ("ap-guangzhou"); Hong Kong and
// regions abroad are not.
func TencentMainland(region string) bool {
	switch region {
	case "ap-beijing", "ap-shanghai", "ap-guangzhou", "ap-chengdu", "ap-chongqing", "ap-nanjing",
		"ap-shenzhen-fsi", "ap-shanghai-fsi", "ap-beijing-fsi":
		return true
	}
	return false
}

// Huawei returns the rules of Huawei Cloud (华为云):
//
//   - ECS (Flexus X included) and Flexus L file as subscriptions of at
//     least 3 months, renewals included; a dedicated cloud as a yearly
//     subscription of at least a year; mainland regions only; an EIP.
//   - An ECS or Flexus L instance issues 5 codes and files 5 websites,
//     for good: deregistering a filing gives nothing back.
//   - One account files for one subject, and a subject files with one
//     account.
//   - The owner grants codes after issuing them.
//
// A grant is confirmed by SMS, or approved at once for the accounts of an
// owner's whitelist: both are the provider's console's, before it calls
// GrantServiceCode. Left at the defaults: how many subjects an instance
// serves (5), the codes of a dedicated cloud, whether an abandoned filing
// voids its code, the code format, and the filings in progress: Huawei
// allows one order at a time, but how many websites an order holds was
// not found, and the library counts websites.
func Huawei() icpverify.Profile {
	ecs := server()
	ecs.WebsitesPerInstance = 5
	dedicated := server()
	dedicated.MinTermMonths = 12
	return icpverify.Profile{
		Policies: map[icpverify.ProductType]icpverify.Policy{
			icpverify.ProductECS: ecs, FlexusL: ecs, DedicatedCloud: dedicated,
		},
		SubjectsPerAccount: 1,
		AccountsPerSubject: 1,
	}
}

// JD returns the rules of JD Cloud (京东云):
//
//   - Its virtual machines file as subscriptions of over 3 months (the
//     text does not say whether purchased or remaining; the library reads
//     purchased), with a public IP.
//   - A server files at most 5 websites at once, and so does a public IP;
//     deregistering a filing frees its place (FreedOnDeregister).
//   - A code is valid for a year from issue, whatever the server's term.
//   - One account files for one subject.
//
// A server issues 5 codes (the older text; the newer says 5 an IP, which
// WebsitesPerIP holds): the library counts an instance's codes for its
// life, so a freed place is used by a code issued before. JD accepts the
// resident ID and the passport for individuals and the USCC first for
// organisations; the library accepts every certificate it knows. Left at
// the defaults: the grant model, the code format and states, whether an
// abandoned filing voids its code, the mainland rule and how many subjects
// a server serves (5).
func JD() icpverify.Profile {
	vm := server()
	vm.WebsitesPerInstance = 5
	vm.WebsitesPerIP = 5
	vm.CodeTTL = 365 * 24 * time.Hour
	return icpverify.Profile{
		Policies:           map[icpverify.ProductType]icpverify.Policy{VM: vm},
		SubjectsPerAccount: 1,
		FreedOnDeregister:  true,
	}
}

// Baidu returns the rules of Baidu AI Cloud (百度智能云): a filing
// operation code, made from an eligible instance's filing quota, may be
// used by whoever holds it, in its own account or any other
// (GrantBearer), and is invalid once its instance expires.
//
// Baidu's list of products that file, their terms, quotas and regions were
// not found: the profile keeps the library's product types and their
// DefaultPolicy, which the backend replaces with its own.
func Baidu() icpverify.Profile {
	return icpverify.Profile{
		Policies: map[icpverify.ProductType]icpverify.Policy{
			icpverify.ProductECS:                     server(),
			icpverify.ProductSimpleApplicationServer: server(),
		},
		Grant: icpverify.GrantBearer,
	}
}

// QingCloud returns the rules of QingCloud (青云): an account files for at
// most 5 subjects, a subject files at most 10 websites, and a public IP
// serves at most 10 websites.
//
// QingCloud files with the applicant's own resources; no filing code was
// found. The profile keeps the library's product types, their
// DefaultPolicy and its codes, which the backend issues to the owner.
// Not held: Tibet's filings, which QingCloud does not take online (the
// library knows regions, not provinces).
func QingCloud() icpverify.Profile {
	pol := server()
	pol.WebsitesPerSubject = 10
	pol.WebsitesPerIP = 10
	return icpverify.Profile{
		Policies: map[icpverify.ProductType]icpverify.Policy{
			icpverify.ProductECS:                     pol,
			icpverify.ProductSimpleApplicationServer: pol,
		},
		SubjectsPerAccount: 5,
	}
}
