#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sprawlctl rules import-gitleaks: a gitleaks config this test writes becomes a detectors.yaml
# that loads (rules check) and finds what the gitleaks rule finds (scan --rules); each rule that
# cannot be converted is named with why, and so is each dropped part of a converted one.
# (Root: scan reads the root-only key; no daemon is needed.)
. "$(dirname "$0")/lib.sh"

GL=$E2E_TMP/gitleaks.toml
cat >"$GL" <<'TOML'
title = "test config"

[extend]
useDefault = true

[allowlist]
description = "global"
stopwords = ["example"]
paths = ['''vendor/''']

[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''(?i)acme[_-]?key\s*[:=]\s*['"]?(acme_[a-z0-9]{32})'''
secretGroup = 1
entropy = 3.2
keywords = ["acme"]
  [[rules.allowlists]]
  regexes = ['''^acme_0{8}''']

[[rules]]
id = "Widget Token"
regex = '''wdg_[0-9a-f]{40}'''

[[rules]]
id = "pem-files"
description = "a rule on file names only"
path = '''\.pem$'''

[[rules]]
id = "unicode-sep"
regex = '''tok\x{2028}[a-z]{20}'''

[[rules]]
id = "old-style"
regex = '''zz_[0-9a-f]{40}'''
keywords = ["z"]
[rules.allowlist]
regexTarget = "line"
regexes = ['''test''']
TOML
RULES=$E2E_TMP/rules
mkdir -p "$RULES"
cp "$E2E_ROOT"/rules/agents.yaml "$E2E_ROOT"/rules/policy.yaml "$RULES/"
"$SPRAWLCTL" rules import-gitleaks "$GL" >"$RULES/detectors.yaml" 2>"$E2E_TMP/import.err"
check "import-gitleaks exits 0" test $? -eq 0
cat "$E2E_TMP/import.err"
check "it reports 3 of 5 rules converted" grep -q "converted 3 of 5 gitleaks rule(s)" "$E2E_TMP/import.err"
check "the path-only rule is named, with why" \
	grep -q "rule 'pem-files' (line [0-9]*) not converted: a path-only rule" "$E2E_TMP/import.err"
check "the Go regex PCRE2 cannot take is named, with PCRE2's reason" \
	grep -q "rule 'unicode-sep' (line [0-9]*) not converted: regex (Go RE2) that PCRE2 cannot take: .*too large" "$E2E_TMP/import.err"
check "dropped path allowlists are named" \
	grep -q "rule 'acme-api-key': the global allowlist paths dropped" "$E2E_TMP/import.err"
check "a line-target allowlist that cannot be kept is named" \
	grep -q "rule 'old-style': allowlist regexes on the line dropped" "$E2E_TMP/import.err"
check "exactly 3 detectors in the output" test "$(grep -c '^  - id: ' "$RULES/detectors.yaml")" -eq 3
check "ids are made valid (Widget Token -> widget-token)" grep -q '^  - id: widget-token$' "$RULES/detectors.yaml"
check "secretGroup, entropy, keywords and allowlists are carried over" python3 - "$RULES/detectors.yaml" <<'PY'
import sys, yaml
d = {r["id"]: r for r in yaml.safe_load(open(sys.argv[1]))["detectors"]}
a = d["acme-api-key"]
assert a["group"] == 1 and a["min_entropy"] == 3.2 and a["prefilter"] == ["acme"], a
assert a["allowlist"]["regexes"] == ["^acme_0{8}"] and a["allowlist"]["stopwords"] == ["example"], a
assert d["widget-token"]["allowlist"]["stopwords"] == ["example"]
PY
check "the converted rules load (rules check)" "$SPRAWLCTL" rules check "$RULES"

# The converted rule finds what gitleaks would, and lets its allowlists go.
gen() { python3 -c 'import secrets, string, sys; a = string.ascii_lowercase + string.digits; print(sys.argv[1] + "".join(secrets.choice(a) for _ in range(int(sys.argv[2]))))' "$@"; }
K=$(gen acme_ 32)
printf 'ACME_KEY = "%s"\n' "$K" >"$WORK/found.txt"
printf 'ACME_KEY = "%s"\n' "acme_00000000$(gen '' 24)" >"$WORK/allowed.txt"
printf 'ACME_KEY = "%s"\n' "acme_example$(gen '' 25)" >"$WORK/stopword.txt"
"$SPRAWLCTL" scan --rules "$RULES" "$WORK/found.txt" >"$E2E_TMP/s1.out" 2>&1
check "scan with the converted rules finds the ACME key (exit 1)" test $? -eq 1
check "... named by the converted rule" grep -q "detector acme-api-key (ACME API key)" "$E2E_TMP/s1.out"
"$SPRAWLCTL" scan --rules "$RULES" "$WORK/allowed.txt" "$WORK/stopword.txt" >"$E2E_TMP/s2.out" 2>&1
check "allowlist regex and stopword let their values go (exit 0)" test $? -eq 0
check "no value printed" bash -c "! grep -qF '$K' '$E2E_TMP/s1.out'"

printf 'rules = [\n' >"$E2E_TMP/bad.toml"
"$SPRAWLCTL" rules import-gitleaks "$E2E_TMP/bad.toml" >/dev/null 2>"$E2E_TMP/bad.err"
check "a TOML syntax error fails with the line" bash -c "grep -q 'bad.toml: line ' '$E2E_TMP/bad.err'"
e2e_finish
