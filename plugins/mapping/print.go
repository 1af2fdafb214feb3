package mapping

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
)

// Kinds with their API version, for printed objects (typed clients leave TypeMeta empty).
var (
	mappingTypeMeta = metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "RAMIdentityMapping"}
	listTypeMeta    = metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "RAMIdentityMappingList"}
)

// Output formats.
const (
	outTable = "table"
	outWide  = "wide"
	outJSON  = "json"
	outYAML  = "yaml"
	outName  = "name"
)

// addOutputFlag registers -o with the allowed formats and their completion.
func addOutputFlag(cmd *cobra.Command, p *string, def string, allowed ...string) {
	help := "Output format: " + strings.Join(allowed, "|")
	if def == "" {
		help += " (default: a one-line summary)"
	}
	cmd.Flags().StringVarP(p, "output", "o", def, help)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
}

// checkOutput refuses an -o value not in allowed.
func checkOutput(out string, allowed ...string) error {
	if out == "" || slices.Contains(allowed, out) {
		return nil
	}
	return fmt.Errorf("unknown output format -o %q: use one of %s", out, strings.Join(allowed, ", "))
}

// forPrint returns a copy of m ready to print: kind set, managed fields dropped (as kubectl does).
func forPrint(m *v1alpha1.RAMIdentityMapping) *v1alpha1.RAMIdentityMapping {
	c := m.DeepCopy()
	c.TypeMeta = mappingTypeMeta
	c.ManagedFields = nil
	return c
}

// printMappings prints ms in format out. single means the user named exactly one object, so
// json/yaml print that object rather than a list.
func printMappings(w, errOut io.Writer, out string, ms []v1alpha1.RAMIdentityMapping, single bool, now time.Time) error {
	switch out {
	case outJSON, outYAML:
		var obj runtime.Object
		if single && len(ms) == 1 {
			obj = forPrint(&ms[0])
		} else {
			l := &v1alpha1.RAMIdentityMappingList{TypeMeta: listTypeMeta, Items: make([]v1alpha1.RAMIdentityMapping, 0, len(ms))}
			for i := range ms {
				l.Items = append(l.Items, *forPrint(&ms[i]))
			}
			obj = l
		}
		return printObject(w, out, obj)
	case outName:
		p := &printers.NamePrinter{}
		for i := range ms {
			if err := p.PrintObj(forPrint(&ms[i]), w); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ms) == 0 {
		fmt.Fprintln(errOut, "No resources found")
		return nil
	}
	return printers.NewTablePrinter(printers.PrintOptions{Wide: out == outWide}).PrintObj(mappingTable(ms, now), w)
}

// printObject prints one object (or list) as json or yaml.
func printObject(w io.Writer, out string, obj runtime.Object) error {
	var p printers.ResourcePrinter = &printers.YAMLPrinter{}
	if out == outJSON {
		p = &printers.JSONPrinter{}
	}
	return p.PrintObj(obj, w)
}

// mappingTable builds the table of `get`/`list`: NAME, ARN, USERNAME, GROUPS, AGE, and for -o
// wide the status fields the authenticator writes.
func mappingTable(ms []v1alpha1.RAMIdentityMapping, now time.Time) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name"},
		{Name: "ARN", Type: "string"},
		{Name: "Username", Type: "string"},
		{Name: "Groups", Type: "string"},
		{Name: "Age", Type: "string"},
		{Name: "Canonical-ARN", Type: "string", Priority: 1},
		{Name: "User-ID", Type: "string", Priority: 1},
	}}
	for i := range ms {
		m := &ms[i]
		age := "<unknown>"
		if !m.CreationTimestamp.IsZero() {
			age = duration.HumanDuration(now.Sub(m.CreationTimestamp.Time))
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{
			m.Name, m.Spec.ARN, m.Spec.Username, orNone(strings.Join(m.Spec.Groups, ",")), age,
			orNone(m.Status.CanonicalARN), orNone(m.Status.UserID),
		}})
	}
	return t
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// resourceRef is how kubectl names an object in messages ("ramidentitymapping.<group>/name").
func resourceRef(name string) string {
	return "ramidentitymapping." + v1alpha1.GroupName + "/" + name
}
