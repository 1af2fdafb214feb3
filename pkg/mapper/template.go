package mapper

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Placeholders understood by RenderTemplate.
const (
	PlaceholderAccountID      = "AccountID"
	PlaceholderSessionName    = "SessionName"
	PlaceholderSessionNameRaw = "SessionNameRaw"
	PlaceholderUserID         = "UserID"
	PlaceholderAccessKeyID    = "AccessKeyID"
)

// ErrTemplate is wrapped by template validation and rendering errors.
var ErrTemplate = errors.New("invalid template")

// A tiny explicit replacer instead of text/template: templates come from cluster users (CRDs),
// and nothing they write may execute logic in the authentication path.

// segment is literal text or a placeholder name.
type segment struct {
	text        string
	placeholder bool
}

// parseTemplate splits tmpl into literals and "{{Name}}" placeholders with known names.
func parseTemplate(tmpl string) ([]segment, error) {
	var segs []segment
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return nil, fmt.Errorf("%w %q: \"}}\" without \"{{\"", ErrTemplate, tmpl)
			}
			if rest != "" {
				segs = append(segs, segment{text: rest})
			}
			return segs, nil
		}
		if strings.Contains(rest[:i], "}}") {
			return nil, fmt.Errorf("%w %q: \"}}\" without \"{{\"", ErrTemplate, tmpl)
		}
		if i > 0 {
			segs = append(segs, segment{text: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("%w %q: unterminated \"{{\"", ErrTemplate, tmpl)
		}
		name := rest[:j]
		switch name {
		case PlaceholderAccountID, PlaceholderSessionName, PlaceholderSessionNameRaw, PlaceholderUserID, PlaceholderAccessKeyID:
		default:
			return nil, fmt.Errorf("%w %q: unknown placeholder {{%s}} (known: {{AccountID}}, {{SessionName}}, {{SessionNameRaw}}, {{UserID}}, {{AccessKeyID}})", ErrTemplate, tmpl, name)
		}
		segs = append(segs, segment{text: name, placeholder: true})
		rest = rest[j+2:]
	}
}

// ValidateTemplate reports whether tmpl is well formed and uses only known placeholders.
func ValidateTemplate(tmpl string) error {
	_, err := parseTemplate(tmpl)
	return err
}

// RenderTemplate replaces the placeholders of tmpl with id's values. {{SessionName}} has "@"
// replaced by "-" (session names are often e-mail addresses); {{SessionNameRaw}} is verbatim.
// A placeholder whose value is empty (e.g. a session name for a RAM user) is an error, so a
// mapping that expects sessions fails closed instead of producing a shared name.
func RenderTemplate(tmpl string, id token.Identity) (string, error) {
	segs, err := parseTemplate(tmpl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, s := range segs {
		if !s.placeholder {
			b.WriteString(s.text)
			continue
		}
		var v string
		switch s.text {
		case PlaceholderAccountID:
			v = id.AccountID
		case PlaceholderSessionName:
			v = strings.ReplaceAll(id.SessionName, "@", "-")
		case PlaceholderSessionNameRaw:
			v = id.SessionName
		case PlaceholderUserID:
			v = id.UserID
		case PlaceholderAccessKeyID:
			v = id.AccessKeyID
		}
		if v == "" {
			return "", fmt.Errorf("%w %q: {{%s}} has no value for %s", ErrTemplate, tmpl, s.text, describe(id))
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// describe names an identity for error messages (no secrets: ARNs are not secret).
func describe(id token.Identity) string {
	if id.ARN != "" {
		return id.ARN
	}
	return "the identity"
}
