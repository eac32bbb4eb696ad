package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/icpfiling/icpverify/codeformat"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	got := out.String()
	want := []string{
		// Success and the retry.
		`1 of 5 subject slots used, Retry false`,
		`1 of 5 subject slots used, Retry true`,
		`The retry took no second slot: still 1 of 5 used.` + "\n" +
			`  Both name the same application (Result.Application`,

		// "Invalid product information".
		`errors.Is(err, icpverify.ErrInvalidProduct) is true; errors.As gives Reason "product_not_fileable"`,
		`errors.Is(err, icpverify.ErrInvalidProduct) is true; errors.As gives Reason "product_mismatch"`,
		`en       Invalid product information. The product type you selected (Server Load Balancer) cannot be used`,
		`zh-Hans  产品信息无效。您选择的产品类型（负载均衡SLB）不能用于ICP备案。`,
		`zh-Hant  產品資訊無效。您選擇的產品類型（負載平衡SLB）不能用於ICP備案。`,
		`You selected Simple Application Server, but the ICP filing service code belongs to ECS instance i-bp1ecs0001hz.`,

		// "Product information verification failed. Interface exception".
		`errors.Is(err, icpverify.ErrServiceCodeInvalid) is true; errors.As gives Reason "instance_expired"`,
		`en       Product information verification failed. Interface exception. Instance i-uf6ecs0002sh expired on 2025-06-01, so the ICP filing service codes applied for from it are invalid.`,
		`zh-Hans  验证产品信息失败，接口异常。实例i-uf6ecs0002sh已于2025-06-01到期，由其申请的备案服务码均已失效。`,
		`zh-Hant  驗證產品資訊失敗，介面異常。`,
		`errors.Is(err, icpverify.ErrServiceCodeInvalid) is true; errors.As gives Reason "code_malformed"`,

		// A revoked code: its reservation is released, and the next
		// Verify is refused.
		`subject "Hangzhou Example Studio", 3 of 5 subject slots used, Retry false`,
		`revoked; its reservation is released: 2 of 5 subject slots of i-bp1ecs0001hz used`,
		`errors.Is(err, icpverify.ErrServiceCodeInvalid) is true; errors.As gives Reason "code_revoked"`,
		`en       Product information verification failed. Interface exception. The ICP filing service code has been invalidated.`,
		`zh-Hans  验证产品信息失败，接口异常。该备案服务码已失效。`,
		`zh-Hant  驗證產品資訊失敗，介面異常。此備案服務碼已失效。`,

		// "The ICP Filing subject quantity limit has been reached".
		`5 of 5 subject slots used`,
		`errors.Is(err, icpverify.ErrQuotaReached) is true; errors.As gives Reason "code_limit", 5 of 5`,
		`errors.Is(err, icpverify.ErrQuotaReached) is true; errors.As gives Reason "quota_reached", 5 of 5`,
		`en       A website ICP Filing application has already been submitted for this product. The ICP Filing subject quantity limit has been reached.`,
		`Instance i-wz9ecs0004sz has 5 of 5 filing subjects used.`,
		`zh-Hans  该产品已提交过网站备案申请，备案主体数量已达上限，请更换其他产品。实例i-wz9ecs0004sz已使用5/5个备案主体名额。`,
		`zh-Hant  此產品已提交過網站備案申請，備案主體數量已達上限，請更換其他產品。實例i-wz9ecs0004sz已使用5/5個備案主體名額。`,

		// The agency's other instance, offered with the quota refusal.
		`Error.Alternatives: i-wz9ecs0005sz (ecs), 5 free subject slots, expires 2026-03-01`,
		`Switch to another instance for product verification. Your instances that would pass now: instance i-wz9ecs0005sz has 5 free subject slots.`,
		`您的以下实例当前可通过验证：实例i-wz9ecs0005sz剩余5个主体名额。`,
		`您的以下實例目前可通過驗證：實例i-wz9ecs0005sz剩餘5個主體名額。`,

		// A stranger's Withdraw of an application tells nothing; the
		// audit trail tells the truth.
		`who has seen subject 5's application identity, tries to withdraw it.` + "\n" +
			`  -> refused: errors.Is(err, icpverify.ErrNotFound) is true; errors.As gives Reason "not_reserved"` + "\n" +
			`     en       No reservation was found for this ICP filing service code.`,
		`bob learns nothing: an application that holds no reservation (step 3's, released with` + "\n" +
			`  its revoked code, or one he makes up) gets him the same answer word for word.`,
		`Decision.Cause "code_not_owned", Decision.Holder "agency".`,

		// The agency's Withdraw frees the slot, then the sixth subject
		// passes.
		"The agency withdraws the application of subject 5 (Withdraw).\n" +
			"  withdrawn: 4 of 5 subject slots of i-wz9ecs0004sz used (MemoryStore.Usage)\n\nThe sixth subject tries again.\n" +
			`  -> passed: instance i-wz9ecs0004sz (ecs), subject "Shenzhen Example Client 6 Co., Ltd.", 5 of 5 subject slots used, Retry false`,
		// The Withdraw retried finds nothing, and leaves the sixth
		// subject's application alone.
		"sent again (its answer was lost), finds nothing to withdraw.\n" +
			`  -> refused: errors.Is(err, icpverify.ErrNotFound) is true; errors.As gives Reason "not_reserved"` + "\n" +
			"  The sixth subject's application is another: still 5 of 5 used.",

		// A filed application is neither withdrawn nor released.
		"Complete its application. Withdrawing it now is refused.\n" +
			`  -> refused: errors.Is(err, icpverify.ErrServiceCodeInvalid) is true; errors.As gives Reason "code_used"`,
		`The provider's Release is refused alike (code_used).`,

		// One subject by its certificate: one slot for two websites, each
		// with its own code.
		`subject "Fuzhou Example Information Co., Ltd.", 1 of 5 subject slots used, Retry false`,
		"is refused: a code files one website.\n" +
			`  -> refused: errors.Is(err, icpverify.ErrServiceCodeInvalid) is true; errors.As gives Reason "code_in_use"`,
		`subject "福州示例信息技术有限公司", 1 of 5 subject slots used, Retry false`,
		`One certificate, one subject: the second website takes no second slot, still 1 of 5 used.`,
		`errors.Is(err, icpverify.ErrInvalidProduct) is true; errors.As gives Reason "subject_id_malformed"`,
		`zh-Hans  产品信息无效。主办单位证件号码缺失或无效`,

		// One subject by its name, however typed: a retry.
		`subject "示例网络科技（深圳）有限公司\u3000", 2 of 5 subject slots used, Retry false`,
		`subject "示例网络科技 (深圳) 有限公司", 2 of 5 subject slots used, Retry true`,
		`The organisation code is the same subject: still 1 of 5 used.`,
		"The default policy asks for one (RequireSubjectID).\n" +
			`  -> refused: errors.Is(err, icpverify.ErrInvalidProduct) is true; errors.As gives Reason "subject_id_malformed"`,

		// Renewal warnings: both of alice's subjects, by subject.
		"245 days later the clock reads 2026-02-09 10:00 CST.",
		`  -> i-bp1ecs0001hz, "Hangzhou Example Technology Co., Ltd." (under review), expires 2026-03-01` + "\n" +
			`     en       Instance i-bp1ecs0001hz, which the ICP filing of Hangzhou Example Technology Co., Ltd. uses (service code ****-****-****-XXXX), expires on 2026-03-01. Renew it before then`,
		`     zh-Hans  Hangzhou Example Technology Co., Ltd.的ICP备案所用的实例i-bp1ecs0001hz（备案服务码****-****-****-XXXX）将于2026-03-01到期。`,
		`  -> i-bp1ecs0001hz, "Hangzhou Example Trading Co., Ltd." (under review), expires 2026-03-01`,
		`expired on 2026-03-01, and its ICP filing service codes are invalid.`,

		`the masked form shows the last four` + "\n" + `  characters, which are random.`,

		// Huawei's rules and JD's: a deregistered filing frees its
		// places under JD's only.
		"  1 of 5 subject slots of ecs-hw-0001 used after the deregistration.\n" +
			`  dave files a website for "Beijing Dave Trading Co., Ltd." with a new code of ecs-hw-0001.` + "\n" +
			`  -> refused: errors.Is(err, icpverify.ErrQuotaReached) is true; errors.As gives Reason "account_subjects", 1 of 1`,
		`zh-Hans  备案数量已达上限。您的账号已有其他备案主体，一个账号最多只能为1个主体备案。`,
		"  0 of 5 subject slots of vm-jd-0001 used after the deregistration.\n" +
			`  dave files a website for "Beijing Dave Trading Co., Ltd." with a new code of vm-jd-0001.` + "\n" +
			`  -> passed: instance vm-jd-0001 (vm), subject "Beijing Dave Trading Co., Ltd.", 1 of 5 subject slots used`,

		// The audit trail, counted by the Observer.
		"All steps turned out as expected.\n48 decisions recorded (31 passed, 17 refused, 0 failed).\n",
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if !strings.HasSuffix(got, "decisions recorded (31 passed, 17 refused, 0 failed).\n") {
		t.Error("the count of decisions is not the last line")
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}

// TestRunDeterministic runs the walkthrough twice: service codes are random,
// so equal outputs also show that no code is printed.
func TestRunDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := run(&a); err != nil {
		t.Fatal(err)
	}
	if err := run(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("two runs differ:\n%s\n----\n%s", a.String(), b.String())
	}
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRunWriteError(t *testing.T) {
	if err := run(failWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("run on a failing writer: got %v, want %v", err, errWrite)
	}
}

// TestMaskedLike checks the placeholder of masked codes against the masked
// form of codeformat.Mask.
func TestMaskedLike(t *testing.T) {
	const code = "60RK-4CSM-6MV3-EE1P" // a well-formed code
	masked := codeformat.Mask(nil, code)
	if masked != "****-****-****-EE1P" || !maskedLike(masked) {
		t.Errorf("Mask(nil, %q) = %q, maskedLike %t; want ****-****-****-EE1P, true", code, masked, maskedLike(masked))
	}
	for _, s := range []string{code, "****", "****-****-****-****", "XXXX-****-****-XXXX", maskedCode[:len(maskedCode)-1]} {
		if maskedLike(s) {
			t.Errorf("maskedLike(%q) is true", s)
		}
	}
}

func TestMistype(t *testing.T) {
	for _, code := range []string{"7KQ2-M9XD-4TRB-WH6C", "ZKQ2-M9XD-4TRB-WH6C"} {
		typo := mistype(code)
		if typo == code || len(typo) != len(code) || typo[1:] != code[1:] {
			t.Errorf("mistype(%q) = %q, want the first character changed", code, typo)
		}
	}
}
