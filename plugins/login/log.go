package login

import (
	"fmt"
	"io"
)

// envLogLevel sets the default of --log-level.
const envLogLevel = "KUBECTL_ACK_LOG_LEVEL"

const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
)

// logger writes leveled messages to stderr. It is deliberately tiny: kubectl
// shows the plugin's stderr to the user on every command, so the default
// level (warn) keeps it silent on success.
type logger struct {
	w     io.Writer
	level int
}

func newLogger(w io.Writer, level string) (*logger, error) {
	l := &logger{w: w, level: levelWarn}
	switch trimLower(level) {
	case "", "warn", "warning":
	case "debug":
		l.level = levelDebug
	case "info":
		l.level = levelInfo
	case "error":
		l.level = levelError
	default:
		return nil, fmt.Errorf("invalid --log-level %q: use error, warn, info or debug", level)
	}
	return l, nil
}

func (l *logger) logf(level int, prefix, format string, args ...any) {
	if l == nil || level < l.level {
		return
	}
	fmt.Fprintf(l.w, prefix+format+"\n", args...)
}

func (l *logger) Debugf(format string, args ...any) { l.logf(levelDebug, "debug: ", format, args...) }
func (l *logger) Infof(format string, args ...any)  { l.logf(levelInfo, "", format, args...) }
func (l *logger) Warnf(format string, args ...any)  { l.logf(levelWarn, "warning: ", format, args...) }
