package icphttp

import (
	"net/http"
	"sync"

	"golang.org/x/text/language"
)

// statusText is the title and detail of a problem the Handler finds with a
// request before it reaches the Verifier.
type statusText struct{ title, detail string }

// statusLanguages are the languages of the Handler's own problems, English
// first.
var statusLanguages = []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese}

// statusMatcher matches a language of the catalog to one of
// statusLanguages, made on first use.
var statusMatcher = sync.OnceValue(func() language.Matcher { return language.NewMatcher(statusLanguages) })

// statusProblem returns the problem details of a request the Handler
// refuses with status (400, 401, 404, 405, 413 or 415), in the language of
// statusLanguages closest to tag: English for a language it lacks, so that
// the title, the detail and Content-Language always agree.
func statusProblem(status int, tag language.Tag) Problem {
	i := 0
	switch tag {
	case language.English:
	case language.SimplifiedChinese:
		i = 1
	case language.TraditionalChinese:
		i = 2
	default:
		_, j, conf := statusMatcher().Match(tag)
		if conf >= language.High {
			i = j
		}
	}
	t := statusTexts(status)[i]
	return Problem{Type: "about:blank", Title: t.title, Status: status, Detail: t.detail, Language: statusLanguages[i]}
}

// statusTexts returns the texts of status in each of statusLanguages.
func statusTexts(status int) [3]statusText {
	switch status {
	case http.StatusBadRequest:
		return [3]statusText{
			{"Bad request", "The request could not be read. Refresh the page and submit again."},
			{"请求无效", "无法读取请求，请刷新页面后重新提交。"},
			{"請求無效", "無法讀取請求，請重新整理頁面後再提交。"},
		}
	case http.StatusUnauthorized:
		return [3]statusText{
			{"Sign-in required", "You are not signed in, or your session has expired. Sign in and submit again."},
			{"需要登录", "您尚未登录或登录已过期，请登录后重新提交。"},
			{"需要登入", "您尚未登入或登入已逾時，請登入後再提交。"},
		}
	case http.StatusNotFound:
		return [3]statusText{
			{"Not found", "There is no such operation."},
			{"未找到", "请求的操作不存在。"},
			{"找不到", "請求的操作不存在。"},
		}
	case http.StatusMethodNotAllowed:
		return [3]statusText{
			{"Method not allowed", "This operation does not accept the request's method."},
			{"请求方法不允许", "该操作不接受此请求方法。"},
			{"請求方法不允許", "此操作不接受該請求方法。"},
		}
	case http.StatusRequestEntityTooLarge:
		return [3]statusText{
			{"Request too large", "The request is too large. Check what you entered and submit again."},
			{"请求内容过大", "请求内容过大，请检查填写的信息后重新提交。"},
			{"請求內容過大", "請求內容過大，請檢查填寫的資訊後再提交。"},
		}
	case http.StatusUnsupportedMediaType:
		return [3]statusText{
			{"Unsupported media type", "The request must be sent as JSON (Content-Type: application/json)."},
			{"不支持的媒体类型", "请求必须以JSON格式发送（Content-Type: application/json）。"},
			{"不支援的媒體類型", "請求必須以JSON格式傳送（Content-Type: application/json）。"},
		}
	}
	return [3]statusText{
		{"Request refused", "The request is not supported."},
		{"请求被拒绝", "不支持该请求。"},
		{"請求被拒絕", "不支援此請求。"},
	}
}
