#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What git and gzip write is inflated and matched: a session commits a tracked secret and
# pushes it to a bare repository on disk -> one alert for the local repository and one for the
# remote, each naming the repository, the blob, its commit and ref; git gc and repack after it
# -> no new alert (one place per secret and repository; the remote's path is what receive-pack
# renamed its object to, "<gitdir>/./objects/.."); `tar czf` of a directory holding it ->
# one alert on the archive; a session writing a gzip of 200 MB of zeros -> one coverage_gap
# (inflate_ratio) and nothing else, and a plain leak right after still alerts; detector-shaped
# tokens nobody registered, committed and pushed, archived with tar czf, gzip'd -> discovered
# where the plain bytes or the inflated ones first show them, spread after; a thin pack the
# remote keeps as a pack (a changed line holding a secret, as a delta on the remote's copy) ->
# the base read from the remote's object store, one alert for it, no delta_unresolved gap.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || e2e_skip "needs git"
e2e_start
SECRET=$(new_secret GIT_TOKEN ghp_ 30)
REPO=$WORK/proj
BARE=$WORK/remote.git
export GIT_CONFIG_NOSYSTEM=1 HOME=$E2E_TMP
git config --global user.email e2e@example.invalid
git config --global user.name e2e
git config --global init.defaultBranch main
git init -q "$REPO"
git init -q --bare "$BARE"
git -C "$REPO" remote add origin "$BARE"
# The file is made outside any session: only what git writes is the session's.
printf 'service:\n  token: %s\n' "$SECRET" >"$REPO/config.yml"

# (a) commit and push inside a session
"$SPRAWLCTL" run -- sh -c "cd '$REPO' && git add config.yml && git commit -qm 'add config' && git push -q origin main"
BLOB=$(git -C "$REPO" rev-parse HEAD:config.yml)
COMMIT=$(git -C "$REPO" rev-parse HEAD)
wait_alerts 2 "a['kind']=='secret_spread' and 'git' in a['artifact']" 15
GITP="a['kind']=='secret_spread' and a['secret']['name']=='GIT_TOKEN' and a['artifact'].get('inflated')=='zlib' and a['artifact']['git']['object']=='$BLOB' and a['artifact']['git']['kind']=='blob'"
expect_alerts "(a) one alert for the local repository, with its blob, commit and ref" 1 \
	"$GITP and a['artifact']['git']['repo']=='$REPO' and a['artifact']['git'].get('commit')=='$COMMIT' and a['artifact']['git'].get('ref')=='refs/heads/main' and a['artifact']['path']=='$REPO/.git/objects/${BLOB:0:2}/${BLOB:2}'"
expect_alerts "(a) one alert for the remote repository, with its blob, commit and ref" 1 \
	"$GITP and a['artifact']['git']['repo']=='$BARE' and a['artifact']['git'].get('commit')=='$COMMIT' and a['artifact']['git'].get('ref')=='refs/heads/main' and a['artifact']['path'].replace('/./', '/')=='$BARE/objects/${BLOB:0:2}/${BLOB:2}'"
expect_alerts "(a) nothing else" 2 "a['kind']!='session_summary'"

# (b) git gc and repack: the blob again, in packs of the same repositories: no new place
"$SPRAWLCTL" run -- sh -c "git -C '$REPO' gc -q && git -C '$REPO' repack -a -d -f -q && git -C '$BARE' gc -q"
check "(b) gc packed the blob" bash -c "ls '$REPO'/.git/objects/pack/*.pack >/dev/null"
barrier "gc and repack processed"
expect_alerts "(b) no new alert after gc and repack" 2 "a['kind']!='session_summary'"

# (c) tar czf of a directory holding it: one alert on the archive (tar hands the bytes to gzip
# through a pipe, which is a place of its own)
mkdir -p "$WORK/dir"
cp "$REPO/config.yml" "$WORK/dir/"
"$SPRAWLCTL" run -- tar czf "$WORK/backup.tgz" -C "$WORK" dir
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/backup.tgz'" 15
barrier "tar processed"
expect_alerts "(c) one alert on the archive, inflated" 1 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/backup.tgz' and a['artifact'].get('inflated')=='gzip' and a['artifact']['type']=='file'"
expect_alerts "(c) one alert on tar's pipe into gzip" 1 \
	"a['kind']=='secret_spread' and a['artifact']['type']=='pipe' and a['artifact'].get('reader_exe','').endswith('gzip')"
expect_alerts "(c) nothing else" 4 "a['kind']!='session_summary'"

# (d) a zip bomb: a session writes a gzip of 200 MB of zeros (about 200 KB), then a plain leak
printf '%s\n' "$SECRET" >"$E2E_TMP/.secrets/plain.src"
"$SPRAWLCTL" run -- python3 -c "
import sys, zlib
c = zlib.compressobj(6, zlib.DEFLATED, 31)
zero = bytes(1 << 20)
with open(sys.argv[1], 'wb') as f:
    for _ in range(200):
        f.write(c.compress(zero))
    f.write(c.flush())
with open(sys.argv[2]) as s, open(sys.argv[3], 'w') as o:
    o.write(s.read())
" "$WORK/zeros.gz" "$E2E_TMP/.secrets/plain.src" "$WORK/plain.txt"
check "(d) the bomb is 200 MB of zeros" \
	test "$(gzip -dc "$WORK/zeros.gz" | wc -c)" -eq $((200 << 20))
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/plain.txt'" 15
barrier "the bomb processed"
expect_alerts "(d) the plain leak right after the bomb alerts" 1 \
	"a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/plain.txt'"
expect_alerts "(d) one coverage_gap, naming the ratio bound" 1 \
	"a['kind']=='coverage_gap' and a.get('gaps')=={'inflate_ratio': 1}"
expect_alerts "(d) nothing else" 6 "a['kind']!='session_summary'"
check "(d) the daemon is healthy" "$SPRAWLCTL" status
# Inflating is bounded per record (the ratio bound stops a bomb after a few MiB) and the ring
# is read at most 10 ms a turn: no turn of the event loop did over 50 ms of work, the bomb's
# included (CPU time: waiting for a CPU on a busy host is not the loop's doing).
busy=$(status_field "s['loop_busy_max_us']")
check "(d) the most CPU one event-loop turn used so far, the bomb's included: $((busy / 1000)) ms (<= 50)" \
	test "$busy" -le 50000

# (e) detectors see what is inflated too: GitHub-token-shaped values nobody registered, made
# now (in files, never in an argv), are found in what git and gzip write like in a plain
# write. A commit and push of a file holding one -> secret_discovered on the local object
# (repository, blob), then a spread to the remote; `tar czf` of a directory holding another ->
# discovered in tar's pipe into gzip (plain bytes), then a spread on the archive; `gzip -c` of
# a file holding a third -> discovered on the .gz itself.
python3 - "$REPO/deploy.yml" "$WORK/tokdir/t.txt" "$WORK/gz.txt" <<'PY'
import os, secrets, string, sys
alnum = string.ascii_letters + string.digits
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
for path, fmt in zip(sys.argv[1:], ["deploy:\n  auth: %s\n", "push with %s now\n", "ci %s\n"]):
    with open(path, "w") as f:
        f.write(fmt % ("ghp_" + "".join(secrets.choice(alnum) for _ in range(36))))
PY
T1=$(grep -o 'ghp_[A-Za-z0-9]*' "$REPO/deploy.yml")
T2=$(grep -o 'ghp_[A-Za-z0-9]*' "$WORK/tokdir/t.txt")
T3=$(grep -o 'ghp_[A-Za-z0-9]*' "$WORK/gz.txt")
track_plaintext "$T1"
track_plaintext "$T2"
track_plaintext "$T3"
"$SPRAWLCTL" run -- sh -c "cd '$REPO' && git add deploy.yml && git commit -qm deploy && git push -q origin main"
BLOB1=$(git -C "$REPO" rev-parse HEAD:deploy.yml)
wait_alerts 2 "a['kind'] in ('secret_discovered','secret_spread') and a['secret']['name'].startswith('github-token-') and a['artifact'].get('git',{}).get('object')=='$BLOB1'" 15
barrier "the token's commit and push processed"
DISC="a['kind']=='secret_discovered' and a['secret']['name'].startswith('github-token-') and 'detector github-token found' in a['message']"
expect_alerts "(e) the token committed: discovered on the local object (repository, blob)" 1 \
	"$DISC and a['artifact'].get('inflated')=='zlib' and a['artifact']['git']=={'repo':'$REPO','object':'$BLOB1','kind':'blob','commit':'$(git -C "$REPO" rev-parse HEAD)','ref':'refs/heads/main'} and a['artifact']['path']=='$REPO/.git/objects/${BLOB1:0:2}/${BLOB1:2}'"
expect_alerts "(e) the token pushed: a spread to the remote repository" 1 \
	"a['kind']=='secret_spread' and a['secret']['name'].startswith('github-token-') and a['artifact'].get('git',{}).get('repo')=='$BARE' and a['artifact']['git']['object']=='$BLOB1'"
"$SPRAWLCTL" run -- tar czf "$WORK/tok.tgz" -C "$WORK" tokdir
wait_alerts 1 "a['kind']=='secret_spread' and a['artifact'].get('path')=='$WORK/tok.tgz'" 15
"$SPRAWLCTL" run -- sh -c "gzip -c '$WORK/gz.txt' > '$WORK/gz.txt.gz'"
wait_alerts 1 "a['kind']=='secret_discovered' and a['artifact'].get('path')=='$WORK/gz.txt.gz'" 15
barrier "tar and gzip processed"
expect_alerts "(e) tar czf: discovered in tar's pipe into gzip" 1 \
	"$DISC and a['artifact']['type']=='pipe' and a['artifact'].get('reader_exe','').endswith('gzip')"
expect_alerts "(e) tar czf: a spread on the archive, inflated" 1 \
	"a['kind']=='secret_spread' and a['secret']['name'].startswith('github-token-') and a['artifact'].get('path')=='$WORK/tok.tgz' and a['artifact'].get('inflated')=='gzip'"
expect_alerts "(e) gzip -c: discovered on the .gz, inflated" 1 \
	"$DISC and a['artifact'].get('path')=='$WORK/gz.txt.gz' and a['artifact'].get('inflated')=='gzip' and a['artifact']['type']=='file'"
expect_alerts "(e) three tokens discovered, each once" 3 "a['kind']=='secret_discovered'"
expect_alerts "(e) nothing else" 11 "a['kind']!='session_summary'"
# (f) a thin pack written to disk: the remote keeps what it receives as a pack
# (receive.unpackLimit 1: index-pack --fix-thin writes it into its quarantine); a 24 KiB file is
# pushed, then one line of it changed to hold a tracked secret and pushed again. The second
# pack's blob is a delta on the first version, which only the remote's object store holds: the
# base is read from there -> one alert for the remote (its new blob), one for the local
# repository, no delta_unresolved.
git -C "$BARE" config receive.unpackLimit 1
thin_push "$REPO" THIN_F
BLOB_F=$(git -C "$REPO" rev-parse HEAD:big.txt)
BASE_F=$(git -C "$REPO" rev-parse HEAD~1:big.txt)
check "(f) the remote has the commit" \
	test "$(git -C "$BARE" rev-parse main)" = "$(git -C "$REPO" rev-parse HEAD)"
check "(f) the remote keeps the blob as a delta on the old one" \
	bash -c "git -C '$BARE' verify-pack -v '$BARE'/objects/pack/*.idx | grep -q '^$BLOB_F blob .* 1 $BASE_F\$'"
# Thin it was: index-pack --fix-thin appended the base the push did not send, so two of the
# remote's packs hold the old blob (the first push's, and this one's).
check "(f) the pack came thin (index-pack appended the base it lacked)" \
	test "$(for i in "$BARE"/objects/pack/*.idx; do git -C "$BARE" show-index <"$i"; done | grep -c " $BASE_F")" -eq 2
wait_alerts 2 "a['kind']=='secret_spread' and a['secret']['name']=='THIN_F'" 15
barrier "the thin push processed"
expect_alerts "(f) one alert for the remote repository, naming the blob the delta made" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='THIN_F' and a['artifact'].get('inflated')=='zlib' and a['artifact']['git']['repo']=='$BARE' and a['artifact']['git']['object']=='$BLOB_F' and a['artifact']['git']['kind']=='blob'"
expect_alerts "(f) one alert for the local repository" 1 \
	"a['kind']=='secret_spread' and a['secret']['name']=='THIN_F' and a['artifact']['git']['repo']=='$REPO' and a['artifact']['git']['object']=='$BLOB_F'"
expect_alerts "(f) no delta left unresolved" 0 "a['kind']=='coverage_gap' and 'delta_unresolved' in a.get('gaps',{})"
expect_alerts "(f) nothing else" 13 "a['kind']!='session_summary'"
check "SIGTERM stops the daemon with status 0" e2e_stop
e2e_finish
