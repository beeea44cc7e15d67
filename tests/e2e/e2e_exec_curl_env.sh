#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# exec channel: a secret on a command line (curl -H "Authorization: Bearer ...") and in an
# environment variable is seen in the new process image (argv and env areas).
. "$(dirname "$0")/lib.sh"

e2e_start
start_http
T=$(new_secret BEARER_TOKEN)
printf '%s' "$T" >"$E2E_TMP/token"
# The shell reads the token itself: only curl's argv (index 5) and its request carry it.
"$SPRAWLCTL" run -- sh -c 'curl -s -o /dev/null -H "Authorization: Bearer $(cat '"$E2E_TMP/token"')" http://127.0.0.1:'"$HTTP_PORT"'/'
# Only /bin/true's environment carries it (the assignment is sh's own, not on a command line).
"$SPRAWLCTL" run -- sh -c 'API_TOKEN=$(cat '"$E2E_TMP/token"') exec /bin/true'
wait_alerts 5 "a['kind']=='secret_spread'" 10
barrier
CURL=$(command -v curl)
expect_alerts "exec_arg: curl's argument names the exe and the argv index" 1 \
	"a['artifact']=={'type':'exec_arg','path':'$CURL','index':5} and a['process']['comm']=='curl' and a['secret']['name']=='BEARER_TOKEN' and a['severity']=='high'"
expect_alerts "the exec_arg alert shows argv with that element redacted" 1 \
	"a['artifact']['type']=='exec_arg' and a['process']['argv'][5]=='[redacted]' and a['process']['argv'][:5]==['curl','-s','-o','/dev/null','-H']"
expect_alerts "socket: curl sent the header to the server" 1 \
	"a['artifact']=={'type':'socket','proto':'tcp','peer':'127.0.0.1:$HTTP_PORT'} and a['process']['comm']=='curl'"
expect_alerts "exec_env: true's environment (exe resolved) names exe and variable" 1 \
	"a['artifact']=={'type':'exec_env','path':'$(readlink -f /bin/true)','name':'API_TOKEN'} and a['process']['comm']=='true' and a['severity']=='medium'"
expect_alerts "the two \$(cat token) substitutions: pipes into the shell" 2 \
	"a['artifact']['type']=='pipe' and a['process']['comm']=='cat' and a['artifact']['reader_pid']>0"
expect_alerts "five alerts in all" 5 "a['kind']!='session_summary'"
e2e_stop
expect_no_plaintext "$T"
e2e_finish
