package messages

import "golang.org/x/text/language"

// messageSet is the messages of one language.
type messageSet struct {
	tag  language.Tag
	msgs map[string]string
}

// builtinMessages returns the messages of New, each Reason's under its
// value. The English prompts of the sentinels are the provider's FAQ's
// wording; so is the Simplified Chinese prompt of
// icpverify.ErrServiceCodeInvalid, and the Simplified Chinese
// "prompt.resource_limit" is Huawei Cloud's prompt for a resource used for
// filing as often as it may be. They are made on each call, so that
// nothing is built before a Catalog is.
func builtinMessages() []messageSet {
	return []messageSet{
		{language.Und, english()},
		{language.SimplifiedChinese, simplifiedChinese()},
		{language.TraditionalChinese, traditionalChinese()},
	}
}

// english returns the built-in messages in English, which a language
// that lacks a message falls back to.
func english() map[string]string {
	return map[string]string{
		"layout": "%[1]s %[2]s",

		"alternatives":      "Your instances that would pass now: %[1]s.",
		"alternative.one":   "instance %[1]s has 1 free subject slot",
		"alternative.other": "instance %[1]s has %[2]d free subject slots",
		"alternatives.sep":  "; ",

		"expiry.soon": "Instance %[1]s, which the ICP filing of %[2]s uses (service code %[4]s), expires on %[3]s. Renew it before then: when it expires, its ICP filing service codes become invalid.",
		"expiry.past": "Instance %[1]s, which the ICP filing of %[2]s uses (service code %[4]s), expired on %[3]s, and its ICP filing service codes are invalid. Renew it, or apply for a service code using a valid instance.",

		"prompt.invalid_product":      "Invalid product information.",
		"prompt.service_code_invalid": "Product information verification failed. Interface exception.",
		"prompt.quota_reached":        "A website ICP Filing application has already been submitted for this product. The ICP Filing subject quantity limit has been reached. Please switch to another product.",
		"prompt.code_limit":           "No more ICP Filing service codes can be applied for from this product.",
		"prompt.resource_limit":       "The resource used for the ICP filing has reached its maximum number of uses.",
		"prompt.filing_limit":         "The ICP Filing quantity limit has been reached.",
		"prompt.not_found":            "No reservation was found for this ICP filing service code.",
		"prompt.failure":              "Product verification could not be completed.",

		"advice.invalid_product":      "Verify that the selected product type matches the product you purchased. For an ECS instance, select the cloud server and use its ICP filing service code.",
		"advice.service_code_invalid": "The ICP filing service code you used for product verification is invalid. Verify that the instance you used to apply for the ICP filing service code has not expired. If it has, apply for a service code using a valid instance.",
		"advice.quota_reached":        "Switch to another instance for product verification.",
		"advice.failure":              "Please try again later. If the problem persists, contact support.",

		"product.ecs":  "ECS",
		"product.swas": "Simple Application Server",
		"product.slb":  "Server Load Balancer",
		"product.ack":  "Container Service for Kubernetes",
		"product.oss":  "OSS",
		"product.cdn":  "CDN",

		"field.account":    "account",
		"field.subject":    "filing subject",
		"field.instance":   "instance ID",
		"field.owner":      "owner account",
		"field.grantee":    "grantee account",
		"field.website":    "website domain",
		"field.subject_id": "certificate number of the filing subject",

		"invalid_request":      "The %[7]s is missing, too long or not valid text. Check what you entered and submit again.",
		"product_not_fileable": "The product type you selected (%[4]s) cannot be used for an ICP filing. Select the product type you purchased; for an ECS instance, select the cloud server and use its ICP filing service code. Load balancers, container services, OSS and CDN are verified through the ECS instance behind them.",
		"product_mismatch":     "You selected %[4]s, but the ICP filing service code belongs to %[5]s instance %[1]s. Select the product type that matches the product you purchased.",
		"instance_not_found":   "Instance %[1]s was not found. Check the instance ID.",
		"not_instance_owner":   "Instance %[1]s does not belong to your account. Apply for the ICP filing service code from an instance you own.",
		"not_subscription":     "Instance %[1]s is pay-as-you-go. Only subscription instances can apply for an ICP filing service code.",
		"term_too_short":       "Instance %[1]s was purchased for %[2]d months in total; at least %[3]d months are needed. Renew the instance, then apply for the ICP filing service code.",
		"not_mainland":         "Instance %[1]s is not in a Chinese mainland region. Only instances in mainland regions can apply for an ICP filing service code.",
		"no_public_ip":         "Instance %[1]s has no public IP address. Assign it a public IP address or public bandwidth, then apply for the ICP filing service code.",
		"not_running":          "Instance %[1]s is not running. Start the instance, then apply for the ICP filing service code.",
		"trial_instance":       "Instance %[1]s is a free trial. Trial instances cannot apply for an ICP filing service code; use a purchased instance.",
		"subject_id_malformed": "The certificate number of the filing subject is missing or not valid: check its type and every character. A unified social credit code and a resident identity number have 18 characters, the last a check character.",
		"not_grantable":        "The ICP filing service codes of instance %[1]s can be used only for the filings of the account that owns it: its product type cannot issue them for another account or grant them to one. To file for another account, apply for a service code from an instance whose codes can be granted.",
		"grant_not_allowed":    "An ICP filing service code of instance %[1]s cannot be issued or granted for this account: service codes can be issued only by, and for, accounts that meet the filing requirements, such as real-name verification. Check that the accounts concerned meet them and try again, or apply for a service code from an instance of your own.",

		"code_malformed":      "The ICP filing service code you entered is not valid; check it for typing mistakes. A code has 16 letters and digits: XXXX-XXXX-XXXX-XXXX.",
		"code_not_found":      "The ICP filing service code you entered does not exist. Check the code, or apply for a service code using a valid (unexpired) instance.",
		"code_not_owned":      "The ICP filing service code was neither issued to your account nor granted to it. Use a code of your own, or ask its owner to grant it to your account.",
		"code_revoked":        "The ICP filing service code has been invalidated. Apply for a new service code using a valid (unexpired) instance.",
		"instance_expired":    "Instance %[1]s expired on %[6]s, so the ICP filing service codes applied for from it are invalid. Apply for an ICP filing service code using a valid (unexpired) instance.",
		"instance_released":   "Instance %[1]s has been released, so the ICP filing service codes applied for from it are invalid. Apply for an ICP filing service code using a valid (unexpired) instance.",
		"code_in_use":         "The ICP filing service code is already used by another filing application. A code files one website for one subject only; apply for another service code using a valid instance.",
		"code_used":           "The ICP filing service code has already been used for a completed ICP filing and cannot be used again. Apply for another service code using a valid instance.",
		"code_expired":        "The ICP filing service code expired on %[6]s: a code is valid for a limited time after it is issued. Apply for a new service code using a valid instance.",
		"instance_stopped":    "Instance %[1]s is not running, so its ICP filing service codes cannot be used now. Start the instance, then verify again.",
		"public_ip_removed":   "Instance %[1]s no longer has a public IP address, so its ICP filing service codes cannot be used now. Assign it a public IP address or public bandwidth, then verify again.",
		"remaining_too_short": "Instance %[1]s expires on %[6]s, too soon for an ICP filing. Renew the instance, then verify again, or apply for a service code using another instance.",
		"grant_fixed":         "The account this ICP filing service code serves was named when the code was applied for, and cannot be changed or withdrawn. To file for another account, apply for a new service code for that account.",
		"not_filed":           "The ICP filing of this application has not been completed, so there is no filing to deregister. Withdraw or release an application that is still in progress instead.",

		"quota_reached": "Instance %[1]s has %[2]d of %[3]d filing subjects used. Switch to another instance for product verification.",
		"code_limit":    "Instance %[1]s has issued %[2]d of %[3]d ICP filing service codes, and renewal does not add more. Apply for the service code from another instance.",

		"instance_websites":  "Instance %[1]s has %[2]d of %[3]d websites filed or being filed, and can be used for no more. Switch to another instance for product verification.",
		"ip_websites":        "The public IP address of instance %[1]s has %[2]d of %[3]d websites filed or being filed, and can be used for no more. Switch to an instance with another public IP address for product verification.",
		"account_websites":   "Your account has %[2]d of %[3]d websites filed or being filed, as many as one account may have. Withdraw any application you no longer need, then verify again.",
		"subject_websites":   "This filing subject has %[2]d of %[3]d websites filed or being filed, as many as one subject may have. Withdraw any application for it that you no longer need, then verify again.",
		"account_subjects":   "Your account already files for other filing subjects, as many as one account may (%[3]d). Submit the application for this subject from another account.",
		"subject_accounts":   "This filing subject already files with other accounts, as many as one subject may (%[3]d). Submit the application from an account that the subject already files with.",
		"filing_in_progress": "Your account has %[2]d of %[3]d ICP filing applications in progress, as many as one account may have at once. Wait until one is completed, or withdraw one you no longer need, then verify again.",

		"not_reserved": "It may have been released already.",
	}
}

// simplifiedChinese returns the built-in messages in Simplified Chinese.
func simplifiedChinese() map[string]string {
	return map[string]string{
		"layout": "%[1]s%[2]s",

		"alternatives":      "您的以下实例当前可通过验证：%[1]s。",
		"alternative.one":   "实例%[1]s剩余1个主体名额",
		"alternative.other": "实例%[1]s剩余%[2]d个主体名额",
		"alternatives.sep":  "；",

		"expiry.soon": "%[2]s的ICP备案所用的实例%[1]s（备案服务码%[4]s）将于%[3]s到期。请在到期前续费：实例到期后，其备案服务码将失效。",
		"expiry.past": "%[2]s的ICP备案所用的实例%[1]s（备案服务码%[4]s）已于%[3]s到期，其备案服务码已失效。请续费，或使用有效的实例申请备案服务码。",

		"prompt.invalid_product":      "产品信息无效。",
		"prompt.service_code_invalid": "验证产品信息失败，接口异常。",
		"prompt.quota_reached":        "该产品已提交过网站备案申请，备案主体数量已达上限，请更换其他产品。",
		"prompt.code_limit":           "该产品可申请的备案服务码数量已达上限。",
		"prompt.resource_limit":       "用于备案的资源已达最大使用次数。",
		"prompt.filing_limit":         "备案数量已达上限。",
		"prompt.not_found":            "未找到该备案服务码的预留记录。",
		"prompt.failure":              "产品验证未能完成。",

		"advice.invalid_product":      "请确认所选产品类型与您购买的产品一致。ECS实例请选择云服务器，并使用其备案服务码进行验证。",
		"advice.service_code_invalid": "您用于产品验证的备案服务码无效。请确认申请备案服务码所用的实例未到期。如实例已到期，请使用有效的实例重新申请备案服务码。",
		"advice.quota_reached":        "请更换其他实例进行产品验证。",
		"advice.failure":              "请稍后重试。如问题持续，请联系技术支持。",

		"product.ecs":  "云服务器ECS",
		"product.swas": "轻量应用服务器",
		"product.slb":  "负载均衡SLB",
		"product.ack":  "容器服务ACK",
		"product.oss":  "对象存储OSS",
		"product.cdn":  "CDN",

		"field.account":    "账号",
		"field.subject":    "备案主体",
		"field.instance":   "实例ID",
		"field.owner":      "所有者账号",
		"field.grantee":    "被授权账号",
		"field.website":    "网站域名",
		"field.subject_id": "主办单位证件号码",

		"invalid_request":      "%[7]s缺失、过长或不是有效文本，请检查填写的信息后重新提交。",
		"product_not_fileable": "您选择的产品类型（%[4]s）不能用于ICP备案。请选择与您购买的产品一致的产品类型；ECS实例请选择云服务器，并使用其备案服务码。负载均衡、容器服务、OSS和CDN需通过其后端的ECS实例进行验证。",
		"product_mismatch":     "您选择的是%[4]s，但该备案服务码属于%[5]s实例%[1]s。请选择与您购买的产品一致的产品类型。",
		"instance_not_found":   "未找到实例%[1]s，请检查实例ID。",
		"not_instance_owner":   "实例%[1]s不属于您的账号。请使用您自己的实例申请备案服务码。",
		"not_subscription":     "实例%[1]s为按量付费实例。只有包年包月实例可以申请备案服务码。",
		"term_too_short":       "实例%[1]s累计购买时长为%[2]d个月，至少需要%[3]d个月。请续费后再申请备案服务码。",
		"not_mainland":         "实例%[1]s不在中国内地地域。只有中国内地地域的实例可以申请备案服务码。",
		"no_public_ip":         "实例%[1]s没有公网IP。请为实例分配公网IP或公网带宽后再申请备案服务码。",
		"not_running":          "实例%[1]s未处于运行中状态。请启动实例后再申请备案服务码。",
		"trial_instance":       "实例%[1]s为免费试用实例，试用实例不能申请备案服务码，请使用已购买的实例。",
		"subject_id_malformed": "主办单位证件号码缺失或无效，请核对证件类型及每一位字符。统一社会信用代码和居民身份证号码均为18位，最后一位为校验码。",
		"not_grantable":        "实例%[1]s的备案服务码仅限该实例所属账号自行备案使用：该产品类型不能为其他账号申请备案服务码，也不能将备案服务码授权给其他账号。如需为其他账号备案，请使用可授权的实例申请备案服务码。",
		"grant_not_allowed":    "实例%[1]s的备案服务码不能为该账号申请或授权给该账号：只有符合备案要求（如完成相应实名认证）的账号才能申请或获得备案服务码。请确认相关账号符合要求后重试，或使用您自己的实例申请备案服务码。",

		"code_malformed":      "您输入的备案服务码格式不正确，请检查是否输入有误。备案服务码由16位字母和数字组成，格式为XXXX-XXXX-XXXX-XXXX。",
		"code_not_found":      "您输入的备案服务码不存在。请检查备案服务码，或使用有效（未到期）的实例申请备案服务码。",
		"code_not_owned":      "该备案服务码既不是您的账号申请的，也未授权给您的账号。请使用您自己的备案服务码，或请其所有者授权给您的账号。",
		"code_revoked":        "该备案服务码已失效。请使用有效（未到期）的实例重新申请备案服务码。",
		"instance_expired":    "实例%[1]s已于%[6]s到期，由其申请的备案服务码均已失效。请使用有效（未到期）的实例申请备案服务码。",
		"instance_released":   "实例%[1]s已释放，由其申请的备案服务码均已失效。请使用有效（未到期）的实例申请备案服务码。",
		"code_in_use":         "该备案服务码已被其他备案申请使用。一个备案服务码只能为一个主体备案一个网站，请使用有效的实例另行申请备案服务码。",
		"code_used":           "该备案服务码已用于已完成的备案，不能再次使用。请使用有效的实例另行申请备案服务码。",
		"code_expired":        "该备案服务码已于%[6]s过期：备案服务码自申请之日起仅在一定期限内有效。请使用有效的实例重新申请备案服务码。",
		"instance_stopped":    "实例%[1]s未处于运行状态，其备案服务码暂不可用。请启动实例后重新验证。",
		"public_ip_removed":   "实例%[1]s已没有公网IP地址，其备案服务码暂不可用。请为实例分配公网IP地址或公网带宽后重新验证。",
		"remaining_too_short": "实例%[1]s将于%[6]s到期，剩余时长不足以办理备案。请续费实例后重新验证，或使用其他实例申请备案服务码。",
		"grant_fixed":         "该备案服务码的被授权账号已在申请时指定，不能更改或取消。如需为其他账号备案，请为该账号另行申请备案服务码。",
		"not_filed":           "该申请的备案尚未完成，没有可注销的备案。尚在办理中的申请请撤回或释放。",

		"quota_reached": "实例%[1]s已使用%[2]d/%[3]d个备案主体名额。请更换其他实例进行产品验证。",
		"code_limit":    "实例%[1]s已申请%[2]d/%[3]d个备案服务码，续费不会增加数量。请使用其他实例申请备案服务码。",

		"instance_websites":  "实例%[1]s已备案及备案中的网站数为%[2]d/%[3]d，已达上限。请更换其他实例进行产品验证。",
		"ip_websites":        "实例%[1]s的公网IP已备案及备案中的网站数为%[2]d/%[3]d，已达上限。请更换使用其他公网IP的实例进行产品验证。",
		"account_websites":   "您的账号已备案及备案中的网站数为%[2]d/%[3]d，已达一个账号的上限。如有不再需要的备案申请，请撤回后重新验证。",
		"subject_websites":   "该备案主体已备案及备案中的网站数为%[2]d/%[3]d，已达一个主体的上限。如有该主体不再需要的备案申请，请撤回后重新验证。",
		"account_subjects":   "您的账号已有其他备案主体，一个账号最多只能为%[3]d个主体备案。请使用其他账号为该主体提交备案申请。",
		"subject_accounts":   "该备案主体已在其他账号下备案，一个主体最多只能使用%[3]d个账号备案。请使用该主体已备案的账号提交申请。",
		"filing_in_progress": "您的账号当前有%[2]d/%[3]d个备案申请正在办理中，已达一个账号可同时办理的上限。请等待其中的申请办理完成，或撤回不再需要的申请后重新验证。",

		"not_reserved": "该预留可能已被释放。",
	}
}

// traditionalChinese returns the built-in messages in Traditional Chinese.
func traditionalChinese() map[string]string {
	return map[string]string{
		"layout": "%[1]s%[2]s",

		"alternatives":      "您的以下實例目前可通過驗證：%[1]s。",
		"alternative.one":   "實例%[1]s剩餘1個主體名額",
		"alternative.other": "實例%[1]s剩餘%[2]d個主體名額",
		"alternatives.sep":  "；",

		"expiry.soon": "%[2]s的ICP備案所用的實例%[1]s（備案服務碼%[4]s）將於%[3]s到期。請在到期前續費：實例到期後，其備案服務碼將失效。",
		"expiry.past": "%[2]s的ICP備案所用的實例%[1]s（備案服務碼%[4]s）已於%[3]s到期，其備案服務碼已失效。請續費，或使用有效的實例申請備案服務碼。",

		"prompt.invalid_product":      "產品資訊無效。",
		"prompt.service_code_invalid": "驗證產品資訊失敗，介面異常。",
		"prompt.quota_reached":        "此產品已提交過網站備案申請，備案主體數量已達上限，請更換其他產品。",
		"prompt.code_limit":           "此產品可申請的備案服務碼數量已達上限。",
		"prompt.resource_limit":       "用於備案的資源已達最大使用次數。",
		"prompt.filing_limit":         "備案數量已達上限。",
		"prompt.not_found":            "找不到此備案服務碼的預留記錄。",
		"prompt.failure":              "產品驗證未能完成。",

		"advice.invalid_product":      "請確認所選產品類型與您購買的產品一致。ECS實例請選擇雲端伺服器，並使用其備案服務碼進行驗證。",
		"advice.service_code_invalid": "您用於產品驗證的備案服務碼無效。請確認申請備案服務碼所用的實例未到期。如實例已到期，請使用有效的實例重新申請備案服務碼。",
		"advice.quota_reached":        "請更換其他實例進行產品驗證。",
		"advice.failure":              "請稍後再試。如問題持續，請聯絡技術支援。",

		"product.ecs":  "雲端伺服器ECS",
		"product.swas": "輕量應用伺服器",
		"product.slb":  "負載平衡SLB",
		"product.ack":  "容器服務ACK",
		"product.oss":  "物件儲存OSS",
		"product.cdn":  "CDN",

		"field.account":    "帳號",
		"field.subject":    "備案主體",
		"field.instance":   "實例ID",
		"field.owner":      "擁有者帳號",
		"field.grantee":    "被授權帳號",
		"field.website":    "網站網域",
		"field.subject_id": "主辦單位證件號碼",

		"invalid_request":      "%[7]s缺少、過長或不是有效文字，請檢查填寫的資訊後重新提交。",
		"product_not_fileable": "您選擇的產品類型（%[4]s）不能用於ICP備案。請選擇與您購買的產品一致的產品類型；ECS實例請選擇雲端伺服器，並使用其備案服務碼。負載平衡、容器服務、OSS和CDN需透過其後端的ECS實例進行驗證。",
		"product_mismatch":     "您選擇的是%[4]s，但此備案服務碼屬於%[5]s實例%[1]s。請選擇與您購買的產品一致的產品類型。",
		"instance_not_found":   "找不到實例%[1]s，請檢查實例ID。",
		"not_instance_owner":   "實例%[1]s不屬於您的帳號。請使用您自己的實例申請備案服務碼。",
		"not_subscription":     "實例%[1]s為隨用隨付實例。只有包年包月實例可以申請備案服務碼。",
		"term_too_short":       "實例%[1]s累計購買時長為%[2]d個月，至少需要%[3]d個月。請續費後再申請備案服務碼。",
		"not_mainland":         "實例%[1]s不在中國內地地域。只有中國內地地域的實例可以申請備案服務碼。",
		"no_public_ip":         "實例%[1]s沒有公網IP。請為實例分配公網IP或公網頻寬後再申請備案服務碼。",
		"not_running":          "實例%[1]s未處於執行中狀態。請啟動實例後再申請備案服務碼。",
		"trial_instance":       "實例%[1]s為免費試用實例，試用實例不能申請備案服務碼，請使用已購買的實例。",
		"subject_id_malformed": "主辦單位證件號碼缺失或無效，請核對證件類型及每一位字元。統一社會信用代碼和居民身分證號碼均為18位，最後一位為校驗碼。",
		"not_grantable":        "實例%[1]s的備案服務碼僅限此實例所屬帳號自行備案使用：此產品類型無法為其他帳號申請備案服務碼，也無法將備案服務碼授權給其他帳號。如需為其他帳號備案，請使用可授權的實例申請備案服務碼。",
		"grant_not_allowed":    "實例%[1]s的備案服務碼無法為此帳號申請或授權給此帳號：只有符合備案要求（例如完成相應實名認證）的帳號才能申請或取得備案服務碼。請確認相關帳號符合要求後再試，或使用您自己的實例申請備案服務碼。",

		"code_malformed":      "您輸入的備案服務碼格式不正確，請檢查是否輸入有誤。備案服務碼由16位字母和數字組成，格式為XXXX-XXXX-XXXX-XXXX。",
		"code_not_found":      "您輸入的備案服務碼不存在。請檢查備案服務碼，或使用有效（未到期）的實例申請備案服務碼。",
		"code_not_owned":      "此備案服務碼既不是您的帳號申請的，也未授權給您的帳號。請使用您自己的備案服務碼，或請其擁有者授權給您的帳號。",
		"code_revoked":        "此備案服務碼已失效。請使用有效（未到期）的實例重新申請備案服務碼。",
		"instance_expired":    "實例%[1]s已於%[6]s到期，由其申請的備案服務碼均已失效。請使用有效（未到期）的實例申請備案服務碼。",
		"instance_released":   "實例%[1]s已釋放，由其申請的備案服務碼均已失效。請使用有效（未到期）的實例申請備案服務碼。",
		"code_in_use":         "此備案服務碼已被其他備案申請使用。一個備案服務碼只能為一個主體備案一個網站，請使用有效的實例另行申請備案服務碼。",
		"code_used":           "此備案服務碼已用於已完成的備案，不能再次使用。請使用有效的實例另行申請備案服務碼。",
		"code_expired":        "此備案服務碼已於%[6]s過期：備案服務碼自申請之日起僅在一定期限內有效。請使用有效的實例重新申請備案服務碼。",
		"instance_stopped":    "實例%[1]s未處於執行狀態，其備案服務碼暫不可用。請啟動實例後重新驗證。",
		"public_ip_removed":   "實例%[1]s已沒有公網IP位址，其備案服務碼暫不可用。請為實例分配公網IP位址或公網頻寬後重新驗證。",
		"remaining_too_short": "實例%[1]s將於%[6]s到期，剩餘時長不足以辦理備案。請續費實例後重新驗證，或使用其他實例申請備案服務碼。",
		"grant_fixed":         "此備案服務碼的被授權帳號已在申請時指定，無法變更或取消。如需為其他帳號備案，請為該帳號另行申請備案服務碼。",
		"not_filed":           "此申請的備案尚未完成，沒有可註銷的備案。仍在辦理中的申請請撤回或釋放。",

		"quota_reached": "實例%[1]s已使用%[2]d/%[3]d個備案主體名額。請更換其他實例進行產品驗證。",
		"code_limit":    "實例%[1]s已申請%[2]d/%[3]d個備案服務碼，續費不會增加數量。請使用其他實例申請備案服務碼。",

		"instance_websites":  "實例%[1]s已備案及備案中的網站數為%[2]d/%[3]d，已達上限。請更換其他實例進行產品驗證。",
		"ip_websites":        "實例%[1]s的公網IP已備案及備案中的網站數為%[2]d/%[3]d，已達上限。請更換使用其他公網IP的實例進行產品驗證。",
		"account_websites":   "您的帳號已備案及備案中的網站數為%[2]d/%[3]d，已達單一帳號的上限。如有不再需要的備案申請，請撤回後重新驗證。",
		"subject_websites":   "此備案主體已備案及備案中的網站數為%[2]d/%[3]d，已達單一主體的上限。如有此主體不再需要的備案申請，請撤回後重新驗證。",
		"account_subjects":   "您的帳號已有其他備案主體，一個帳號最多只能為%[3]d個主體備案。請使用其他帳號為此主體提交備案申請。",
		"subject_accounts":   "此備案主體已在其他帳號下備案，一個主體最多只能使用%[3]d個帳號備案。請使用此主體已備案的帳號提交申請。",
		"filing_in_progress": "您的帳號目前有%[2]d/%[3]d個備案申請正在辦理中，已達單一帳號可同時辦理的上限。請等候其中的申請辦理完成，或撤回不再需要的申請後重新驗證。",

		"not_reserved": "此預留可能已被釋放。",
	}
}
