package mapping

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/deploy"
)

// crdPollInterval is how often install-crd checks the Established condition.
const crdPollInterval = 200 * time.Millisecond

// installCRDOptions are the flags of install-crd.
type installCRDOptions struct {
	*rootOptions
	timeout time.Duration
}

// Complete has nothing to derive.
func (o *installCRDOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks --timeout.
func (o *installCRDOptions) Validate() error {
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s must be positive", o.timeout)
	}
	return nil
}

// Run applies the built-in CRD and waits until it is served.
func (o *installCRDOptions) Run(ctx context.Context) error {
	cfg, err := o.restConfig()
	if err != nil {
		return err
	}
	cs, err := apiextensions.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create apiextensions client: %w", err)
	}
	return o.installCRD(ctx, cs, o.timeout)
}

func newInstallCRDCommand(root *rootOptions) *cobra.Command {
	o := &installCRDOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "install-crd",
		Short: "Install or update the RAMIdentityMapping CRD and wait until it is served",
		Long: `Apply the RAMIdentityMapping CustomResourceDefinition built into this binary (the same
bytes as deploy/crd/) — create it, or update an existing one — and wait until the API server
reports it Established. Needs permission to create and update customresourcedefinitions.`,
		Example: `  kubectl ack-map install-crd
  kubectl ack-map install-crd --timeout 2m --context my-ack-cluster`,
		RunE: runE(o),
	}
	cmd.Flags().DurationVar(&o.timeout, "timeout", time.Minute, "How long to wait for the CRD to become Established")
	return cmd
}

func (o *rootOptions) installCRD(ctx context.Context, cs apiextensions.Interface, timeout time.Duration) error {
	var want apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(deploy.RAMIdentityMappingCRD, &want); err != nil {
		return fmt.Errorf("parse the built-in CRD: %w", err)
	}
	crds := cs.ApiextensionsV1().CustomResourceDefinitions()
	action := "created"
	_, err := crds.Create(ctx, &want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		action = "configured"
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			cur, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			upd := cur.DeepCopy()
			upd.Spec = want.Spec
			// Add ours, keep everyone else's: a CRD installed by Helm or the ACK add-on carries
			// ownership labels and annotations whose loss would break its next upgrade.
			upd.Annotations = mergeStrings(upd.Annotations, want.Annotations)
			upd.Labels = mergeStrings(upd.Labels, want.Labels)
			_, err = crds.Update(ctx, upd, metav1.UpdateOptions{})
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("apply CRD %s: %w", want.Name, err)
	}
	fmt.Fprintf(o.streams.Out, "customresourcedefinition.apiextensions.k8s.io/%s %s\n", want.Name, action)
	fmt.Fprintf(o.streams.ErrOut, "Waiting up to %s for %s to be established...\n", timeout, want.Name)

	var last string
	err = wait.PollUntilContextTimeout(ctx, crdPollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		cur, err := crds.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, c := range cur.Status.Conditions {
			switch {
			case c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue:
				return true, nil
			case c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionFalse:
				return false, fmt.Errorf("CRD %s names not accepted: %s", want.Name, c.Message)
			case c.Type == apiextensionsv1.Established:
				last = c.Reason + ": " + c.Message
			}
		}
		return false, nil
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("CRD %s was not established within %s (last: %s); check 'kubectl get crd %s -o yaml' or raise --timeout", want.Name, timeout, orNone(last), want.Name)
		}
		return fmt.Errorf("wait for CRD %s: %w", want.Name, err)
	}
	fmt.Fprintf(o.streams.ErrOut, "%s is established\n", want.Name)
	return nil
}

// mergeStrings returns dst with every key of src set to src's value.
func mergeStrings(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}
