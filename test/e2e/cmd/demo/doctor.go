package main

import (
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// doctor shows `kubectl ack-rrsa doctor` on the working association, then breaks it (the
// namespace loses its injection label) and lets doctor find the cause and the fix.
func (d *demo) doctor(ops *harness.User) error {
	d.say("doctor checks every piece a pod needs to get its role; first, stand-ins for the ack-pod-identity-webhook add-on (nothing runs it here)")
	if r := ops.RunInput(d.ctx, []byte(harness.PodIdentityWebhookStandIn), "kubectl", "apply", "-f", "-"); r.Err() != nil {
		return r.Err()
	}
	if _, err := d.ok(ops, "kubectl", harness.PodIdentityWebhookReady...); err != nil {
		return err
	}
	if _, err := d.ok(ops, "kubectl", "ack-rrsa", "doctor", "-n", "demo", "-s", "app"); err != nil {
		return err
	}
	d.say("break it: the namespace loses its injection label, so new pods would get nothing")
	if _, err := d.ok(ops, "kubectl", "label", "namespace", "demo", "pod-identity.alibabacloud.com/injection-"); err != nil {
		return err
	}
	fix := "kubectl label namespace demo pod-identity.alibabacloud.com/injection=on"
	r := ops.Run(d.ctx, "kubectl", "ack-rrsa", "doctor", "-n", "demo", "-s", "app")
	if r.ExitCode != 1 || !strings.Contains(r.Stdout, "✘ Namespace injection: namespace demo is not labelled") || !strings.Contains(r.Stdout, "fix: "+fix) {
		return fmt.Errorf("doctor should have found the missing label, exit 1, and shown %q:\n%s", fix, r)
	}
	d.say("doctor exits 1 and names the fix; apply it and check again")
	if _, err := d.ok(ops, strings.Fields(fix)[0], strings.Fields(fix)[1:]...); err != nil {
		return err
	}
	_, err := d.ok(ops, "kubectl", "ack-rrsa", "doctor", "-n", "demo", "-s", "app")
	return err
}
