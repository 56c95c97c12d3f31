# The kernel and training-step benchmark against TF.js on the same adapter (docs/performance.md).
bench --vs tfjs --quick --full --json /tmp/res/bench.json --md /tmp/res/bench.md
