#!/usr/bin/env bash
# Mutation check for the time rule and time parsing: the tests must fail on every mutant below.
# Each mutant is one exact text replacement, applied alone to a throwaway copy of the repository,
# so the working tree (which others may be editing) is never touched.
#
#   npm run mutants                         # the time-rule tests (quick)
#   npm run mutants -- test/property test/unit
#   FC_SEED=123 npm run mutants             # replay one seed
#   ONLY=cutoff-le,future-ge npm run mutants  # just these mutants
#
# Exit status: 0 all killed · 1 some survived · 2 the tests fail even without a mutant, or a
# mutant no longer matches the source (then update its text here).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$#" -gt 0 ]; then TESTS=("$@"); else
  TESTS=(test/property/clamp.test.ts test/property/expand.test.ts test/property/row.test.ts test/unit/parse-time.test.ts test/unit/row.test.ts)
fi
SEED="${FC_SEED:-$((RANDOM * 32768 + RANDOM))}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lp-mutants.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -R "$ROOT/src" "$ROOT/test" "$ROOT/scripts" "$WORK/"
[ -d "$ROOT/samples" ] && cp -R "$ROOT/samples" "$WORK/"
cp "$ROOT"/package.json "$ROOT"/tsconfig*.json "$ROOT"/vitest.config.ts "$WORK/"
# Link the packages one by one rather than node_modules as a whole, so Vite's cache
# (node_modules/.vite) is written inside the copy, not into the real tree.
mkdir "$WORK/node_modules"
for entry in "$ROOT"/node_modules/* "$ROOT"/node_modules/.bin; do ln -s "$entry" "$WORK/node_modules/"; done

# id | file | exact text | replacement | what the mutant gets wrong
MUTANTS=(
  "window-366d|src/time/clamp.ts|export const PLATFORM_WINDOW = 365 * DAY;|export const PLATFORM_WINDOW = 366 * DAY;|platform window 366 days"
  "cutoff-le|src/time/clamp.ts|return t < cutoffOf(r) ? target : t;|return t <= cutoffOf(r) ? target : t;|an event exactly at the cutoff is clamped"
  "future-ge|src/time/clamp.ts|if (t > r.importAt + r.futureTolerance) return { kind: 'future' };|if (t >= r.importAt + r.futureTolerance) return { kind: 'future' };|an event exactly at T + tolerance is refused"
  "clamp-target-1d|src/time/clamp.ts|export const clampTargetOf = (r: TimeRule): number => r.importAt - r.clampAge;|export const clampTargetOf = (r: TimeRule): number => r.importAt - r.clampAge - DAY;|clamp target one day older than T - A"
  "default-clamp-age-361d|src/config.ts|clampAge: '360d',|clampAge: '361d',|default clamp age 361 days"
  "default-max-delay-3d|src/config.ts|maxDelay: '2d',|maxDelay: '3d',|default max delay 3 days"
  "min-time-le|src/time/clamp.ts|if (t < r.minTime) return { kind: 'implausible' };|if (t <= r.minTime) return { kind: 'implausible' };|an event exactly at min time is refused"
  "nudge-ge|src/time/clamp.ts|if (t > r.importAt) return { kind: 'ok', time: r.importAt, change: 'nudged' };|if (t >= r.importAt) return { kind: 'ok', time: r.importAt, change: 'nudged' };|an event exactly at T counts as nudged"
  "nudge-not-to-T|src/time/clamp.ts|return { kind: 'ok', time: r.importAt, change: 'nudged' };|return { kind: 'ok', time: t, change: 'nudged' };|a nudged event keeps its future time"
  "monotone-as-keep|src/time/clamp.ts|if (r.mode === 'monotone') return Math.max(t, target);|if (r.mode === 'monotone') return t < cutoffOf(r) ? target : t;|monotone mode clamps like keep"
  "rule-problems-le|src/time/clamp.ts|if (clampTargetOf(r) < cutoffOf(r)) {|if (clampTargetOf(r) <= cutoffOf(r)) {|D = W - A refused"
  "spread-round|src/events/expand.ts|first + Math.floor((span * i) / (n - 1));|first + Math.round((span * i) / (n - 1));|occurrences rounded instead of floored"
  "spread-uneven|src/events/expand.ts|first + Math.floor((span * i) / (n - 1));|first + Math.floor((span * i * i) / ((n - 1) * (n - 1)));|occurrences bunched at the start (ends still exact)"
  "offset-minutes-99|src/time/parse.ts|if (mm > 59 \|\| ss > 59) return undefined;|if (ss > 59) return undefined;|offset minutes past 59 accepted"
  "offset-max-18h|src/time/parse.ts|const MAX_OFFSET = 14 * 3600;|const MAX_OFFSET = 18 * 3600;|offsets up to 18 hours accepted"
  "dst-gap-accepted|src/time/parse.ts|if (candidate + tzOffset(zone, new Date(candidate)) * 60_000 === wall && (best === undefined \|\| candidate < best)) best = candidate;|if (best === undefined \|\| candidate < best) best = candidate;|a wall time skipped by DST is accepted"
  "dst-repeat-later|src/time/parse.ts|if (candidate + tzOffset(zone, new Date(candidate)) * 60_000 === wall && (best === undefined \|\| candidate < best)) best = candidate;|if (candidate + tzOffset(zone, new Date(candidate)) * 60_000 === wall && (best === undefined \|\| candidate > best)) best = candidate;|a repeated wall time takes the later instant"
  "pattern-ignores-zone|src/time/parse.ts|return wall === undefined ? noMatch : fromWall(text, wall, zone, 'pattern');|return wall === undefined ? noMatch : fromWall(text, wall, 'UTC', 'pattern');|a pattern reads wall times as UTC"
)

# Replace exactly one occurrence of $3 by $4 in file $2 (under $1); fail if it is not there once.
mutate() {
  node -e '
    const fs = require("node:fs");
    const [file, from, to] = process.argv.slice(1);
    const text = fs.readFileSync(file, "utf8");
    const n = text.split(from).length - 1;
    if (n !== 1) { console.error(`expected the text once in ${file}, found it ${n} times: ${from}`); process.exit(1); }
    fs.writeFileSync(file, text.replace(from, () => to));
  ' "$1/$2" "$3" "$4"
}

run_tests() {
  (cd "$WORK" && NO_COLOR=1 TZ=America/New_York FC_SEED="$SEED" ./node_modules/.bin/vitest run "${TESTS[@]}") >"$WORK/log" 2>&1
}

echo "fast-check seed $SEED (replay: FC_SEED=$SEED npm run mutants)"
echo "tests: ${TESTS[*]}"
if ! run_tests; then
  echo "BASELINE FAILS: the tests fail without any mutant, so a kill would mean nothing:" >&2
  grep -E 'FAIL|Error' "$WORK/log" | head -20 >&2
  exit 2
fi

survived=0
broken=0
total=0
for m in "${MUTANTS[@]}"; do
  # split on unescaped |, then unescape \|
  IFS=$'\x1f' read -r id file from to what < <(printf '%s\n' "$m" | sed 's/\\|/\x1e/g; s/|/\x1f/g; s/\x1e/|/g')
  [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$id,"* ]] || continue
  total=$((total + 1))
  cp "$WORK/$file" "$WORK/$file.orig"
  if ! mutate "$WORK" "$file" "$from" "$to" 2>"$WORK/mutate.err"; then
    printf '%-24s NOT APPLIED  %s\n' "$id" "$(cat "$WORK/mutate.err")"
    broken=$((broken + 1))
    rm -f "$WORK/$file.orig"
    continue
  fi
  if run_tests; then
    printf '%-24s SURVIVED     %s\n' "$id" "$what"
    survived=$((survived + 1))
  else
    printf '%-24s KILLED       %s\n' "$id" "$what"
    # which tests caught it: the ones to look at if this ever turns into SURVIVED
    grep -E '^ FAIL ' "$WORK/log" | sed -E 's/^ FAIL  /                           by /; s/ [0-9]+ms$//' | sort -u | head -4 || true
  fi
  mv "$WORK/$file.orig" "$WORK/$file"
done

if [ "$total" -eq 0 ]; then echo "no mutant is named ${ONLY:-}" >&2; exit 2; fi
echo "$((total - survived - broken)) killed, $survived survived, $broken not applied (of $total)"
[ "$broken" -eq 0 ] || exit 2
[ "$survived" -eq 0 ] || exit 1
