#!/usr/bin/env bash
# The report schema (docs/assess-report.schema.json) is a valid JSON Schema
# (draft 2020-12), the committed sample report conforms, and a report with
# a required member removed (or a wrong value) does not: the validator can
# fail.  Real reports from `sipwall assess` are validated by
# test_assess_host_targets.sh.
set -uo pipefail
SW_SRC=${SW_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SCHEMA=$SW_SRC/docs/assess-report.schema.json
VALIDATE="/usr/bin/python3 $SW_SRC/tests/assess/validate-report.py"
SAMPLE=$SW_SRC/tests/data/assess/report-sample.json
T=$(mktemp -d /tmp/swb-schema.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok:   $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

if $VALIDATE "$SCHEMA" "$SAMPLE" >"$T/out" 2>&1; then ok "sample report valid"; else bad "sample report: $(cat "$T/out")"; fi

# Each mutation must be refused: the member path and the jq-free python edit.
mutate() { # NAME PYTHON-STATEMENT-ON-r
    /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); $2; json.dump(r,open(sys.argv[2],'w'))" \
        "$SAMPLE" "$T/$1.json" || { bad "mutation $1 failed to apply"; return; }
    if $VALIDATE "$SCHEMA" "$T/$1.json" >"$T/$1.out" 2>&1; then
        bad "$1: a broken report passed the schema"
    else
        ok "$1 refused: $(head -1 "$T/$1.out" | cut -c1-120)"
    fi
}
mutate no-summary "del r['summary']"
mutate no-finding-evidence "del r['findings'][0]['evidence']"
mutate no-control-coverage "del r['controls'][2]['coverage']"
mutate no-questionnaire-answers "del r['questionnaire']['answers']"
mutate bad-result "r['findings'][1]['result']='maybe'"
mutate bad-schema-id "r['schema']='sipwall-assess/2'"
mutate six-controls "r['controls'].pop()"
mutate score-over-100 "r['summary']['score']=101"
mutate bad-timestamp "r['run']['started']='yesterday'"
mutate extra-top-level "r['extra']=1"

echo "$fails failed"
[ "$fails" -eq 0 ]
