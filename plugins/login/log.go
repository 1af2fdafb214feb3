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

// newLogger picks the level: -v (kubectl's verbosity; 1 or more shows the debug lines that say
// where credentials, the cluster and the cache entry came from) wins, then ack-ram-tool's
// --log-level, then the environment. A bad --log-level is a usage error.
func newLogger(w io.Writer, flagLevel, envLevel string, verbosity int) (*logger, error) {
	l := &logger{w: w, level: levelWarn}
	switch {
	case verbosity > 0:
		l.level = levelDebug
	case flagLevel != "":
		lvl, ok := parseLevel(flagLevel)
		if !ok {
			return nil, usage(fmt.Errorf("invalid --log-level %q: use error, warn, info or debug (or -v for debug)", flagLevel))
		}
		l.level = lvl
	default:
		lvl, ok := parseLevel(envLevel)
		if !ok {
			return nil, fmt.Errorf("invalid %s=%q: use error, warn, info or debug", envLogLevel, envLevel)
		}
		l.level = lvl
	}
	return l, nil
}

func parseLevel(s string) (int, bool) {
	switch trimLower(s) {
	case "", "warn", "warning":
		return levelWarn, true
	case "debug":
		return levelDebug, true
	case "info":
		return levelInfo, true
	case "error":
		return levelError, true
	}
	return 0, false
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
