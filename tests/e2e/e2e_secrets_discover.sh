#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sprawlctl secrets discover: the detectors find credentials in well-known files of every home
# and in the environment of running agents, and track them (origin: the file), never printing
# a value; --dry-run tracks nothing.
. "$(dirname "$0")/lib.sh"

H=/home/sprawl-e2e-disc-$$
mkdir -p "$H/.aws" "$E2E_TMP/bin"
cleanup_home() { rm -rf "$H"; e2e_cleanup; }
trap cleanup_home EXIT
# Built at run time: an access key id shape and a GitHub token shape.
AKID=$(python3 -c 'import secrets, string; print("AK" + "IA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)))')
GHT=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("gh" + "p_" + "".join(secrets.choice(a) for _ in range(36)))')
printf '[default]\naws_access_key_id = %s\n' "$AKID" >"$H/.aws/credentials"
# The other well-known credential files (README: ~/.netrc, ~/.npmrc, gh, docker, kube,
# gcloud), each holding its own GitHub-shaped token in the file's usual form.
ght() { python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("gh" + "p_" + "".join(secrets.choice(a) for _ in range(36)))'; }
mkdir -p "$H/.config/gh" "$H/.docker" "$H/.kube" "$H/.config/gcloud"
declare -A CRED
CRED[.netrc]=$(ght); CRED[.npmrc]=$(ght); CRED[.config/gh/hosts.yml]=$(ght)
CRED[.docker/config.json]=$(ght); CRED[.kube/config]=$(ght)
CRED[.config/gcloud/application_default_credentials.json]=$(ght)
printf 'machine github.com login u password %s\n' "${CRED[.netrc]}" >"$H/.netrc"
printf '//npm.pkg.github.com/:_authToken=%s\n' "${CRED[.npmrc]}" >"$H/.npmrc"
printf 'github.com:\n    oauth_token: %s\n    user: u\n' "${CRED[.config/gh/hosts.yml]}" >"$H/.config/gh/hosts.yml"
printf '{"auths": {"ghcr.io": {"identitytoken": "%s"}}}\n' "${CRED[.docker/config.json]}" >"$H/.docker/config.json"
printf 'users:\n- name: u\n  user:\n    token: %s\n' "${CRED[.kube/config]}" >"$H/.kube/config"
printf '{"type": "authorized_user", "refresh_token": "%s"}\n' \
	"${CRED[.config/gcloud/application_default_credentials.json]}" \
	>"$H/.config/gcloud/application_default_credentials.json"
for f in "${!CRED[@]}"; do track_plaintext "${CRED[$f]}"; done
# A running "claude" with a token in its environment.
cp "$(readlink -f /bin/sleep)" "$E2E_TMP/bin/claude"
env GITHUB_TOKEN="$GHT" "$E2E_TMP/bin/claude" 60 &
AGENT=$!
E2E_KILL="${E2E_KILL:-} $AGENT"

track_plaintext "$AKID"
track_plaintext "$GHT"
e2e_start
DRY=$("$SPRAWLCTL" secrets discover --dry-run)
check "--dry-run names what it would track and tracks nothing" \
	bash -c "grep -q 'would track $H/.aws/credentials: aws-access-key-id-' <<<'$DRY' && ! '$SPRAWLCTL' secrets list | grep -q aws-access-key-id-"
OUT=$("$SPRAWLCTL" secrets discover)
check "the credentials file's key is tracked with the file as origin" \
	bash -c "'$SPRAWLCTL' secrets list | grep aws-access-key-id- | grep -qF '$H/.aws/credentials'"
check "the running agent's environment token is tracked" \
	bash -c "grep -q 'pid $AGENT (claude) environment: github-token-' <<<'$OUT'"
check "discover never prints a value" bash -c "! grep -qF -e '$AKID' -e '$GHT' <<<'$OUT$DRY'"
LIST=$("$SPRAWLCTL" secrets list)
for f in .netrc .npmrc .config/gh/hosts.yml .docker/config.json .kube/config \
	.config/gcloud/application_default_credentials.json; do
	check "discover reads ~/$f: its token is tracked, origin the file" \
		bash -c "grep -F ' $H/$f' <<<'$LIST' | grep -q github-token-"
done
check "discover never prints a value of those files" \
	bash -c "! grep -qF -e '${CRED[.netrc]}' -e '${CRED[.npmrc]}' -e '${CRED[.kube/config]}' <<<'$OUT$LIST'"
AGAIN=$("$SPRAWLCTL" secrets discover)
check "a second discover finds them already tracked" bash -c "grep -q '^tracking 0 new secret' <<<'$AGAIN'"
"$SPRAWLCTL" run -- sh -c "grep aws_access_key_id '$H/.aws/credentials' > '$WORK/leak'"
wait_alerts 1 "a['kind']=='secret_spread'" 10
barrier
expect_alerts "a session copying the discovered key alerts, origin the credentials file" 1 \
	"a['artifact']['path']=='$WORK/leak' and a['secret']['name'].startswith('aws-access-key-id-') and a['origin']['path']=='$H/.aws/credentials'"
expect_alerts "reading the credentials file in a session is an exposure" 1 \
	"a['kind']=='secret_exposure' and a['artifact']['path']=='$H/.aws/credentials'"
e2e_stop
expect_no_plaintext "$AKID"
expect_no_plaintext "$GHT"
e2e_finish
