package arn

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// Reading is how the official ack-ram-authenticator reads the ARN of a mapping. Ours always reads
// "*" and "?" as an anchored, case-insensitive glob (Match); the official server does not.
type Reading int

const (
	// ReadingExact is the official MountedFile, ACKConfigMap and DynamicFile backends: the ARN is
	// compared with the identity's canonical ARN for equality, ignoring case, so "*" and "?"
	// are literal characters that no identity has.
	ReadingExact Reading = iota
	// ReadingRegexp is the official CRD backend: a spec.arn holding "*" or "?" is lower-cased
	// and used as an unanchored Go regular expression against the lower-cased canonical ARN.
	// "*" and "?" then repeat the character before them, "." matches any character, and a
	// match anywhere in the ARN counts.
	ReadingRegexp
)

// String names the reading for messages.
func (r Reading) String() string {
	if r == ReadingRegexp {
		return "unanchored regular expression (official CRD backend)"
	}
	return "exact comparison (official file and ConfigMap backends)"
}

// Divergence says how the identities matched by a pattern under the official reading differ from
// those matched by ours. The examples are the shortest canonical identity ARNs (lower case) that
// only one reading matches.
type Divergence struct {
	Pattern string
	Reading Reading
	// OfficialOnly is matched by the official server but not by us: that identity loses this
	// mapping when it moves to our server. Empty when there is none.
	OfficialOnly string
	// OursOnly is matched by us but not by the official server: that identity gains it.
	OursOnly string
	// Undecided is set when the comparison gave up (a pathological pattern); treat the pattern
	// as differing.
	Undecided bool
}

// maxCompareStates bounds the search of CompareOfficial; real patterns need a few hundred.
const maxCompareStates = 20000

// identityExpr is the set of canonical identity ARNs, lower-cased: what both readings are
// compared on. Names use the characters RAM allows in user and role names; role names may carry
// a path.
const identityExpr = `acs:ram::[0-9]+:(?:root|(?:user|role)/[a-z0-9._@-]+(?:/[a-z0-9._@-]+)*)`

// identityAlphabet is every character identityExpr can contain.
const identityAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789._@-/:"

// CompareOfficial reports whether pattern matches a different set of identities under the official
// reading r than under ours. It decides this exactly, by exploring the three automata (identity
// ARNs, our glob, the official reading) together, and returns the shortest examples. Patterns
// without "*" or "?" mean the same under both readings.
func CompareOfficial(pattern string, r Reading) (Divergence, bool) {
	d := Divergence{Pattern: pattern, Reading: r}
	if !IsGlob(pattern) {
		return d, false
	}
	lower := strings.ToLower(pattern)
	official := &machine{prog: compileExpr(regexp.QuoteMeta(lower))}
	if r == ReadingRegexp {
		// A pattern the official server cannot compile matches nothing there: prog stays nil.
		official = &machine{prog: compileExpr(lower), unanchored: true}
	}
	ms := [3]*machine{{prog: compileExpr(identityExpr)}, {prog: compileExpr(globExpr(lower))}, official}
	d.OfficialOnly, d.OursOnly, d.Undecided = explore(ms)
	return d, d.Undecided || d.OfficialOnly != "" || d.OursOnly != ""
}

// MatchOfficial reports whether the official reading r of pattern matches canonicalARN.
func MatchOfficial(pattern string, r Reading, canonicalARN string) bool {
	if r == ReadingExact || !IsGlob(pattern) {
		return strings.EqualFold(pattern, canonicalARN)
	}
	re, err := regexp.Compile(strings.ToLower(pattern))
	return err == nil && re.MatchString(strings.ToLower(canonicalARN))
}

// globExpr is the regular expression of our anchored glob (on lower-cased input).
func globExpr(lowerPattern string) string {
	var b strings.Builder
	b.WriteString("(?s)")
	for _, c := range lowerPattern {
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

func compileExpr(expr string) *syntax.Prog {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	p, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	return p
}

// machine simulates one program as an NFA. An anchored machine accepts when it matches at the end
// of the input; an unanchored one may start anywhere and accepts once it has matched anywhere.
type machine struct {
	prog       *syntax.Prog
	unanchored bool
}

// closure follows the non-consuming instructions from pcs in the context of the runes before and
// after the position, returning the consuming instructions reached and whether Match was.
func (m *machine) closure(pcs []uint32, before, after rune) ([]uint32, bool) {
	if m.prog == nil {
		return nil, false
	}
	if m.unanchored {
		pcs = append(slices.Clone(pcs), uint32(m.prog.Start))
	}
	ctx := syntax.EmptyOpContext(before, after)
	seen := map[uint32]bool{}
	var out []uint32
	matched := false
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &m.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^ctx == 0 {
				stack = append(stack, in.Out)
			}
		case syntax.InstMatch:
			matched = true
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		}
	}
	slices.Sort(out)
	return out, matched
}

// step consumes c from the consuming instructions pcs.
func (m *machine) step(pcs []uint32, c rune) []uint32 {
	var next []uint32
	for _, pc := range pcs {
		in := &m.prog.Inst[pc]
		ok := false
		switch in.Op {
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = c != '\n'
		default:
			ok = in.MatchRune(c)
		}
		if ok && !slices.Contains(next, in.Out) {
			next = append(next, in.Out)
		}
	}
	slices.Sort(next)
	return next
}

// classes returns one representative rune per group of alphabet characters that no program
// tells apart, so the search branches on a handful of characters instead of all of them.
func classes(ms [3]*machine) []rune {
	seen := map[string]bool{}
	var reps []rune
	for _, c := range identityAlphabet {
		var sig strings.Builder
		sig.WriteString(strconv.FormatBool(syntax.IsWordChar(c)))
		for _, m := range ms {
			if m.prog == nil {
				continue
			}
			for i := range m.prog.Inst {
				in := &m.prog.Inst[i]
				if in.Op == syntax.InstRune || in.Op == syntax.InstRune1 {
					sig.WriteString(strconv.FormatBool(in.MatchRune(c)))
				}
			}
		}
		if !seen[sig.String()] {
			seen[sig.String()] = true
			reps = append(reps, c)
		}
	}
	return reps
}

// searchState is a position of the joint search: the pending instructions of each machine, whether
// the official machine has matched already, and the rune before (for word boundaries).
type searchState struct {
	pend    [3][]uint32
	latched bool
	prev    rune
	parent  int
	char    rune
}

func (s *searchState) key() string {
	var b strings.Builder
	for _, p := range s.pend {
		for _, pc := range p {
			b.WriteString(strconv.FormatUint(uint64(pc), 36))
			b.WriteByte(',')
		}
		b.WriteByte('|')
	}
	b.WriteString(strconv.FormatBool(s.latched))
	b.WriteString(strconv.FormatBool(s.prev < 0))
	b.WriteString(strconv.FormatBool(syntax.IsWordChar(s.prev)))
	return b.String()
}

// explore searches breadth-first for the shortest identity ARN each reading matches alone.
func explore(ms [3]*machine) (officialOnly, oursOnly string, undecided bool) {
	start := searchState{prev: -1, parent: -1}
	for i, m := range ms {
		if m.prog != nil && !m.unanchored {
			start.pend[i] = []uint32{uint32(m.prog.Start)}
		}
	}
	states := []searchState{start}
	seen := map[string]bool{start.key(): true}
	reps := classes(ms)
	for i := 0; i < len(states) && (officialOnly == "" || oursOnly == ""); i++ {
		if len(states) > maxCompareStates {
			return officialOnly, oursOnly, true
		}
		s := states[i]
		domain, ours, official := accepts(ms, &s)
		if domain && ours != official {
			if official && officialOnly == "" {
				officialOnly = spell(states, i)
			}
			if ours && oursOnly == "" {
				oursOnly = spell(states, i)
			}
		}
		for _, c := range reps {
			if n, ok := advance(ms, &s, c); ok && !seen[n.key()] {
				seen[n.key()] = true
				n.parent, n.char = i, c
				states = append(states, n)
			}
		}
	}
	return officialOnly, oursOnly, false
}

// accepts reports whether the input that led to s is an identity ARN, and whether our glob and
// the official reading match it.
func accepts(ms [3]*machine, s *searchState) (domain, ours, official bool) {
	_, domain = ms[0].closure(s.pend[0], s.prev, -1)
	_, ours = ms[1].closure(s.pend[1], s.prev, -1)
	_, official = ms[2].closure(s.pend[2], s.prev, -1)
	return domain, ours, official || s.latched
}

// advance consumes c in every machine; ok is false when no identity ARN continues this way or
// when neither reading can match any more (then no difference lies ahead).
func advance(ms [3]*machine, s *searchState, c rune) (searchState, bool) {
	n := searchState{prev: c, latched: s.latched}
	for i, m := range ms {
		if m.prog == nil {
			continue
		}
		closed, matched := m.closure(s.pend[i], s.prev, c)
		if i == 2 && m.unanchored && matched {
			n.latched = true
		}
		n.pend[i] = m.step(closed, c)
	}
	if len(n.pend[0]) == 0 {
		return n, false
	}
	// An unanchored machine restarts at every position, so only a latch or a non-empty set
	// keeps the official reading alive; ours is alive while its set is non-empty.
	officialAlive := n.latched || len(n.pend[2]) > 0 || ms[2].unanchored && ms[2].prog != nil
	return n, len(n.pend[1]) > 0 || officialAlive
}

func spell(states []searchState, i int) string {
	var rs []rune
	for ; states[i].parent >= 0; i = states[i].parent {
		rs = append(rs, states[i].char)
	}
	slices.Reverse(rs)
	return string(rs)
}
