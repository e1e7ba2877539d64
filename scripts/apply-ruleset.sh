#!/usr/bin/env bash
# Applies .github/rulesets/main.json to a GitHub repository (creates it, or updates the ruleset
# of the same name). Needs the GitHub CLI logged in as a repository admin:
#   scripts/apply-ruleset.sh cashtrace/cashtrace-infrastructure
set -euo pipefail
repo="${1:?usage: $0 <owner>/<repo>}"
file="$(dirname "$0")/../.github/rulesets/main.json"
name="$(jq -r .name "$file")"
id="$(gh api "repos/${repo}/rulesets" --jq ".[] | select(.name == \"${name}\") | .id")"
if [ -n "$id" ]; then
  gh api --method PUT "repos/${repo}/rulesets/${id}" --input "$file" >/dev/null
  echo "updated ruleset ${id} (${name}) on ${repo}"
else
  gh api --method POST "repos/${repo}/rulesets" --input "$file" --jq '"created ruleset \(.id) (\(.name))"'
fi
