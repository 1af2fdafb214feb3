#!/bin/sh
# configure-apiserver.sh points a static-pod kube-apiserver at ack-ram-authenticator.
#
# It edits the kube-apiserver manifest (kubeadm layout) so that kube-apiserver runs with
#   --authentication-token-webhook-config-file=<webhook kubeconfig>
#   --authentication-token-webhook-version=v1
# (replacing any existing values of those flags) and mounts the kubeconfig's directory read-only.
# The manifest is backed up outside the manifests directory first (kubelet would start a copy
# left there as a second kube-apiserver). Running it again changes nothing.
#
# Run it as root on each control-plane node AFTER the DaemonSet's init container wrote the webhook
# kubeconfig: kube-apiserver does not start when the file is missing, so the script refuses to
# edit the manifest until it exists. --prepare-dirs creates the host directories the non-root
# DaemonSet writes to, owned by --uid, and exits.
set -eu

manifest=/etc/kubernetes/manifests/kube-apiserver.yaml
kubeconfig=/etc/kubernetes/ack-ram-authenticator/kubeconfig.yaml
state_dir=/var/ack-ram-authenticator
backup_dir=/etc/kubernetes/ack-ram-authenticator-backup
uid=65532
prepare=0
check_kubeconfig=1

usage() {
	cat <<USAGE
usage: $0 [--manifest FILE] [--webhook-kubeconfig FILE] [--backup-dir DIR] [--skip-kubeconfig-check]
       $0 --prepare-dirs [--uid UID] [--state-dir DIR] [--webhook-kubeconfig FILE]
defaults: --manifest $manifest --webhook-kubeconfig $kubeconfig --backup-dir $backup_dir
USAGE
}

die() { echo "configure-apiserver: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--manifest) [ $# -ge 2 ] || die "--manifest needs a file"; manifest=$2; shift 2 ;;
	--webhook-kubeconfig) [ $# -ge 2 ] || die "--webhook-kubeconfig needs a file"; kubeconfig=$2; shift 2 ;;
	--backup-dir) [ $# -ge 2 ] || die "--backup-dir needs a directory"; backup_dir=$2; shift 2 ;;
	--state-dir) [ $# -ge 2 ] || die "--state-dir needs a directory"; state_dir=$2; shift 2 ;;
	--uid) [ $# -ge 2 ] || die "--uid needs a number"; uid=$2; shift 2 ;;
	--prepare-dirs) prepare=1; shift ;;
	--skip-kubeconfig-check) check_kubeconfig=0; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument $1" ;;
	esac
done

case "$kubeconfig" in
/*) ;;
*) die "--webhook-kubeconfig must be an absolute path, got $kubeconfig" ;;
esac
case "$kubeconfig" in
*[!A-Za-z0-9._/-]*) die "--webhook-kubeconfig $kubeconfig may only contain letters, digits and . _ / -" ;;
esac
kc_dir=$(dirname "$kubeconfig")

if [ "$prepare" = 1 ]; then
	case "$uid" in *[!0-9]*|'') die "--uid must be a number, got $uid" ;; esac
	for d in "$state_dir" "$kc_dir"; do
		mkdir -p "$d"
		chown "$uid:$uid" "$d"
		chmod 0750 "$d"
		echo "prepared $d (owner $uid)"
	done
	exit 0
fi

[ -f "$manifest" ] || die "manifest $manifest not found (pass --manifest FILE)"
if [ "$check_kubeconfig" = 1 ] && [ ! -s "$kubeconfig" ]; then
	die "webhook kubeconfig $kubeconfig does not exist yet: deploy ack-ram-authenticator first (its init container writes it), or pass --skip-kubeconfig-check"
fi
grep -q -- '- kube-apiserver$' "$manifest" || die "$manifest has no '- kube-apiserver' command line; is it a kube-apiserver static pod manifest?"
grep -q '^ *volumeMounts:' "$manifest" || die "$manifest has no volumeMounts: section"
grep -q '^ *volumes:' "$manifest" || die "$manifest has no volumes: section"

# kube-apiserver's pod is invalid (and does not start) when two volumeMounts share a mountPath, so a
# mount of the kubeconfig directory that this script did not write must be removed by hand first.
if awk -v kcdir="$kc_dir" -v sq="'" '
{ line[NR] = $0 }
END {
	for (i = 1; i <= NR; i++) {
		l = line[i]
		if (l !~ /^ *(- )?mountPath:/) continue
		if (l ~ /^ *- mountPath: / && line[i+1] ~ /^ *name: ack-ram-authenticator-webhook$/) continue
		v = l
		sub(/^ *(- )?mountPath: */, "", v)
		gsub(/[" \t]/, "", v)
		gsub(sq, "", v)
		sub(/\/+$/, "", v)
		if (v == kcdir) found = 1
	}
	exit !found
}' "$manifest"; then
	die "$manifest already mounts $kc_dir through another volume; remove that volumeMount and its volume first (kube-apiserver does not start with a path mounted twice)"
fi

tmp_dir=$(dirname "$manifest")
# A hidden temporary file: kubelet ignores dot files in the manifests directory.
tmp=$(mktemp "$tmp_dir/.kube-apiserver.yaml.XXXXXX")
trap 'rm -f "$tmp"' EXIT

awk -v kc="$kubeconfig" -v kcdir="$kc_dir" '
function indent(s) { match(s, /^ */); return RLENGTH }
function spaces(n,   s) { s = ""; while (n-- > 0) s = s " "; return s }
function ours(s) { return s ~ /^ *name: ack-ram-authenticator-webhook$/ }
# Items go at the indentation of the existing items of the list (kubeadm uses the key indentation).
function itempad(i) { return (line[i+1] ~ /^ *- /) ? spaces(indent(line[i+1])) : spaces(indent(line[i]) + 2) }
{ line[NR] = $0 }
END {
	for (i = 1; i <= NR; i++) {
		l = line[i]
		# Old values of the flags this script owns, in any form.
		if (l ~ /^ *- --authentication-token-webhook-config-file(=|$)/) continue
		if (l ~ /^ *- --authentication-token-webhook-version(=|$)/) continue
		# The mount and volume this script wrote before (fixed shapes, named ack-ram-authenticator-webhook).
		if (l ~ /^ *- mountPath: / && ours(line[i+1])) { i += (line[i+2] ~ /^ *readOnly: /) ? 2 : 1; continue }
		if (l ~ /^ *- hostPath:$/ && ours(line[i+3])) { i += 3; continue }
		print l
		pad = spaces(indent(l))
		if (l ~ /^ *- kube-apiserver$/ && !flags) {
			print pad "- --authentication-token-webhook-config-file=" kc
			print pad "- --authentication-token-webhook-version=v1"
			flags = 1
		}
		if (l ~ /^ *volumeMounts:$/ && !mounts) {
			pad = itempad(i)
			print pad "- mountPath: " kcdir
			print pad "  name: ack-ram-authenticator-webhook"
			print pad "  readOnly: true"
			mounts = 1
		}
		if (l ~ /^ *volumes:$/ && !vols) {
			pad = itempad(i)
			print pad "- hostPath:"
			print pad "    path: " kcdir
			print pad "    type: DirectoryOrCreate"
			print pad "  name: ack-ram-authenticator-webhook"
			vols = 1
		}
	}
}
' "$manifest" > "$tmp"

if cmp -s "$manifest" "$tmp"; then
	echo "kube-apiserver manifest $manifest is already configured for ack-ram-authenticator"
	exit 0
fi

mkdir -p "$backup_dir"
chmod 0700 "$backup_dir"
backup="$backup_dir/kube-apiserver.yaml.$(date -u +%Y%m%dT%H%M%SZ).$$"
cp -p "$manifest" "$backup"
chmod --reference="$manifest" "$tmp" 2>/dev/null || chmod 0600 "$tmp"
mv "$tmp" "$manifest"
trap - EXIT
echo "configured $manifest (backup: $backup); kubelet restarts kube-apiserver with the webhook"
