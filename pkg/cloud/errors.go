package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// Error classes. Every error returned by a cloud call that reached the service (or failed to) is an
// *APIError whose Kind is one of these, so callers test with errors.Is and never match on strings.
var (
	// ErrNotFound: the entity (role, policy, cluster, task...) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the entity to create exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrThrottled: the service rate-limited the call.
	ErrThrottled = errors.New("throttled")
	// ErrAuth: the credentials were rejected or lack the permission for the call.
	ErrAuth = errors.New("authentication or authorization failed")
	// ErrInvalid: the request was rejected as malformed (bad parameter, policy document...).
	ErrInvalid = errors.New("invalid request")
	// ErrUnavailable: the service failed (5xx) or could not be reached in time.
	ErrUnavailable = errors.New("service unavailable")
)

// APIError describes a failed cloud call. Error() is meant for humans: it carries the service,
// action, error code and request id (what support asks for) and never credentials or the
// server's string-to-sign.
type APIError struct {
	Service    string // "sts", "ram" or "cs"
	Action     string // API action, e.g. "GetRole"
	Code       string // service error code, e.g. "EntityNotExist.Role"; empty for transport errors
	Message    string // service message, sanitised
	RequestID  string
	HTTPStatus int   // 0 when no response was received
	Kind       error // one of ErrNotFound, ErrAlreadyExists, ErrThrottled, ErrAuth, ErrInvalid, ErrUnavailable

	cause error
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s failed: %s", e.Service, e.Action, kindText(e.Kind))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	var details []string
	if e.Code != "" {
		details = append(details, "code "+e.Code)
	}
	if e.HTTPStatus != 0 {
		details = append(details, fmt.Sprintf("HTTP %d", e.HTTPStatus))
	}
	if e.RequestID != "" {
		details = append(details, "request id "+e.RequestID)
	}
	if len(details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(details, ", "))
	}
	if h := hint(e.Kind); h != "" {
		b.WriteString("; " + h)
	}
	return b.String()
}

// Is reports whether target is the error class of e.
func (e *APIError) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// Unwrap returns the underlying cause (SDK or transport error, or the context error), so
// errors.Is(err, context.DeadlineExceeded) works for timeouts.
func (e *APIError) Unwrap() error { return e.cause }

func kindText(kind error) string {
	if kind == nil {
		return "error"
	}
	return kind.Error()
}

func hint(kind error) string {
	switch kind {
	case ErrAuth:
		return "check the credentials (access key, STS token, clock) and the RAM permissions of the identity"
	case ErrThrottled:
		return "the service is rate limiting; retry later"
	case ErrUnavailable:
		return "the service could not be reached or failed; check the endpoint and network, then retry"
	}
	return ""
}

// sdkFields is what every SDK error shape (tea.SDKError, dara.SDKError, openapi ClientError/
// ServerError/ThrottlingError) tells us.
type sdkFields struct {
	code, message, requestID string
	status                   int
	data                     map[string]any
}

type responseError interface {
	GetCode() *string
	GetStatusCode() *int
	GetMessage() *string
	GetData() map[string]interface{}
}

func extractSDK(err error) (sdkFields, bool) {
	var f sdkFields
	var dataJSON string
	var teaErr *tea.SDKError
	var daraErr *dara.SDKError
	var respErr responseError
	switch {
	case errors.As(err, &teaErr):
		f.code, f.message, f.status = tea.StringValue(teaErr.Code), tea.StringValue(teaErr.Message), tea.IntValue(teaErr.StatusCode)
		dataJSON = tea.StringValue(teaErr.Data)
	case errors.As(err, &daraErr):
		f.code, f.message, f.status = dara.StringValue(daraErr.Code), dara.StringValue(daraErr.Message), dara.IntValue(daraErr.StatusCode)
		dataJSON = dara.StringValue(daraErr.Data)
	case errors.As(err, &respErr):
		f.code, f.message, f.status = dara.StringValue(respErr.GetCode()), dara.StringValue(respErr.GetMessage()), dara.IntValue(respErr.GetStatusCode())
		f.data = respErr.GetData()
	default:
		return f, false
	}
	if dataJSON != "" && f.data == nil {
		_ = json.Unmarshal([]byte(dataJSON), &f.data)
	}
	if f.data != nil {
		// The SDK's own Message is "code: 404, <message> request id: <id>"; prefer the service's.
		for _, k := range []string{"Message", "message", "msg"} {
			if s, ok := f.data[k].(string); ok && s != "" {
				f.message = s
				break
			}
		}
		for _, k := range []string{"RequestId", "requestId", "requestid", "request_id"} {
			if s, ok := f.data[k].(string); ok && s != "" {
				f.requestID = s
				break
			}
		}
		if f.code == "" {
			for _, k := range []string{"Code", "code"} {
				if s, ok := f.data[k].(string); ok && s != "" {
					f.code = s
					break
				}
			}
		}
	}
	if f.requestID == "" {
		if r, ok := err.(interface{ GetRequestId() *string }); ok {
			f.requestID = dara.StringValue(r.GetRequestId())
		}
	}
	if f.requestID == "" {
		f.requestID = requestIDFromMessage(f.message)
	}
	f.message = sdkMessage(f.message)
	return f, true
}

// sdkMessage strips the SDK's "code: NNN, " prefix and " request id: X" suffix when the service's
// own message was not available.
func sdkMessage(m string) string {
	if strings.HasPrefix(m, "code: ") {
		if i := strings.Index(m, ", "); i > 0 {
			m = m[i+2:]
		}
	}
	if i := strings.LastIndex(m, " request id: "); i >= 0 {
		m = m[:i]
	}
	return m
}

func requestIDFromMessage(m string) string {
	const marker = "request id: "
	if i := strings.LastIndex(m, marker); i >= 0 {
		return strings.TrimSpace(m[i+len(marker):])
	}
	return ""
}

// sanitizeMessage removes what must never reach logs or terminals: services echo the
// string-to-sign on SignatureDoesNotMatch, which includes the security token.
func sanitizeMessage(m string) string {
	m = strings.TrimSpace(m)
	lower := strings.ToLower(m)
	cut := -1
	for _, marker := range []string{"string to sign", "stringtosign", "string-to-sign", "canonical"} {
		if i := strings.Index(lower, marker); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		// Drop the whole sentence that introduces the string-to-sign.
		prefix := m[:cut]
		if j := strings.LastIndex(prefix, ". "); j >= 0 {
			prefix = prefix[:j+1]
		} else {
			prefix = ""
		}
		m = strings.TrimSpace(prefix + " (server string-to-sign omitted)")
		lower = strings.ToLower(m)
	}
	if strings.Contains(lower, "securitytoken=") || strings.Contains(lower, "accesskeysecret") {
		return "(message omitted: it contained credential material)"
	}
	const maxLen = 400
	if len(m) > maxLen {
		m = m[:maxLen] + "..."
	}
	return m
}

// classifyCode maps an error code and HTTP status to an error class. Order matters: auth codes
// such as InvalidAccessKeyId.NotFound must not be read as "not found".
func classifyCode(code string, status int) error {
	c := strings.ToLower(code)
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(c, strings.ToLower(p)) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Throttling", "Throttled", "QpsLimit", "Flow.Limit") || status == 429:
		return ErrThrottled
	case has("SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidSecurityToken", "NoPermission",
		"Forbidden", "AccessDenied", "IncompleteSignature", "MissingSecurityToken",
		"InvalidTimeStamp", "SignatureNonceUsed", "InvalidSignature", "NotAuthorized",
		"Unauthorized", "AuthenticationFail", "AuthFailure", "StatusForbidden", "ErrorRamPolicyCheck",
		"InvalidAuthorization", "UnsupportedSignature", "SecurityTokenExpired"):
		return ErrAuth
	case has("EntityNotExist", "ErrorClusterNotFound", "ErrorTaskNotFound", "ClusterNotFound",
		"NotFound", "NoSuch", "EntityNotExists") || strings.Contains(c, "notfound") || strings.Contains(c, "notexist"):
		return ErrNotFound
	case has("EntityAlreadyExists", "AlreadyExist") || strings.Contains(c, "alreadyexist") || strings.Contains(c, "alreadyinstalled"):
		return ErrAlreadyExists
	case has("DeleteConflict"):
		// e.g. a role that still has policies attached (HTTP 409): the request must change.
		return ErrInvalid
	case status == 401 || status == 403:
		return ErrAuth
	case status == 404:
		return ErrNotFound
	case status == 409:
		return ErrAlreadyExists
	case status >= 500:
		return ErrUnavailable
	case has("InvalidParameter", "MalformedPolicyDocument", "MissingParameter", "Invalid", "Malformed",
		"LimitExceeded", "DeleteConflict", "ErrorCheck", "BadRequest"):
		return ErrInvalid
	case has("ServiceUnavailable", "InternalError", "ServiceBusy", "Timeout", "UnknownError"):
		return ErrUnavailable
	case status >= 400:
		return ErrInvalid
	}
	return nil
}

// isTransportError reports failures where no (valid) response came back.
func isTransportError(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// classify turns an SDK or transport error into an *APIError. Errors that are neither (e.g. local
// validation) are wrapped with the service and action but keep their own identity.
func classify(service, action string, err error) error {
	if err == nil {
		return nil
	}
	var already *APIError
	if errors.As(err, &already) {
		return err
	}
	if f, ok := extractSDK(err); ok && (f.status != 0 || f.code != "") {
		kind := classifyCode(f.code, f.status)
		if kind == nil {
			if isTransportError(err) {
				kind = ErrUnavailable
			} else {
				return fmt.Errorf("%s %s: %s", service, action, sanitizeMessage(f.message))
			}
		}
		return &APIError{
			Service: service, Action: action, Code: f.code, Message: sanitizeMessage(f.message),
			RequestID: f.requestID, HTTPStatus: f.status, Kind: kind, cause: err,
		}
	}
	if isTransportError(err) {
		msg := "request failed"
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			msg = "timed out"
		case errors.Is(err, context.Canceled):
			msg = "canceled"
		case errors.Is(err, syscall.ECONNREFUSED):
			msg = "connection refused"
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
			msg = "connection closed by the server"
		}
		return &APIError{Service: service, Action: action, Message: msg + ": " + transportDetail(err), Kind: ErrUnavailable, cause: err}
	}
	return fmt.Errorf("%s %s: %w", service, action, err)
}

// transportDetail describes a transport error without the full URL (which may carry a signed
// query string with the access key id and a security token).
func transportDetail(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		host := ""
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			host = u.Host
		}
		return fmt.Sprintf("%s %s: %v", urlErr.Op, host, urlErr.Err)
	}
	return err.Error()
}
