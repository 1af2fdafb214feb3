package mapping

import (
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
)

// Kinds with their API version, for printed objects (typed clients leave TypeMeta empty).
var (
	mappingTypeMeta = metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "RAMIdentityMapping"}
	listTypeMeta    = metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: "RAMIdentityMappingList"}
)

// newGetOutput is the -o of get and list: a table by default.
func newGetOutput() *cli.Output {
	return cli.NewOutput(cli.FormatTable, cli.FormatTable, cli.FormatWide, cli.FormatJSON, cli.FormatYAML,
		cli.FormatName, cli.FormatJSONPath, cli.FormatCustomColumns)
}

// newWriteOutput is the -o of add and update: kubectl's one-line summary by default.
func newWriteOutput() *cli.Output {
	return cli.NewOutput("", cli.FormatYAML, cli.FormatJSON, cli.FormatName, cli.FormatJSONPath)
}

// forPrint returns a copy of m ready to print: kind set, managed fields dropped (as kubectl does).
func forPrint(m *v1alpha1.RAMIdentityMapping) *v1alpha1.RAMIdentityMapping {
	c := m.DeepCopy()
	c.TypeMeta = mappingTypeMeta
	c.ManagedFields = nil
	return c
}

// printMappings prints ms with -o. single means the user named exactly one object, so the data
// formats print that object rather than a list.
func printMappings(streams genericiooptions.IOStreams, out *cli.Output, ms []v1alpha1.RAMIdentityMapping, single bool, now time.Time) error {
	w := streams.Out
	switch out.Name() {
	case cli.FormatName:
		p := &printers.NamePrinter{}
		for i := range ms {
			if err := p.PrintObj(forPrint(&ms[i]), w); err != nil {
				return err
			}
		}
		return nil
	case cli.FormatTable, cli.FormatWide:
		if len(ms) == 0 {
			fmt.Fprintln(streams.ErrOut, "No resources found")
			return nil
		}
		opts := printers.PrintOptions{Wide: out.Name() == cli.FormatWide, NoHeaders: out.NoHeaders}
		return printers.NewTablePrinter(opts).PrintObj(mappingTable(ms, now), w)
	}
	if single && len(ms) == 1 {
		return printObject(w, out, forPrint(&ms[0]))
	}
	l := &v1alpha1.RAMIdentityMappingList{TypeMeta: listTypeMeta, Items: make([]v1alpha1.RAMIdentityMapping, 0, len(ms))}
	for i := range ms {
		l.Items = append(l.Items, *forPrint(&ms[i]))
	}
	return printObject(w, out, l)
}

// printObject prints one object (or list) as json, yaml, jsonpath= or custom-columns=.
func printObject(w io.Writer, out *cli.Output, obj runtime.Object) error {
	switch out.Name() {
	case cli.FormatJSON:
		return (&printers.JSONPrinter{}).PrintObj(obj, w)
	case cli.FormatYAML:
		return (&printers.YAMLPrinter{}).PrintObj(obj, w)
	}
	return kube.PrintTemplate(w, out, obj)
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
