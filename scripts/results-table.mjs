#!/usr/bin/env node
// Builds the Markdown results table of docs/automix.md from `automix train --json` files:
//   node scripts/results-table.mjs runs/*.json
import { readFileSync } from 'node:fs';

const rows = process.argv.slice(2).map((f) => ({ f, r: JSON.parse(readFileSync(f, 'utf8')) }));
// One row per method, and for AutoMix per EMA start (runs with different --ema-momentum are
// different experiments).
const rowKey = (c) => (c.method === 'automix' ? `automix|${c.emaMomentum ?? 0.999}` : c.method);
const byMethod = new Map();
for (const { f, r } of rows) {
  const k = rowKey(r.config);
  if (!byMethod.has(k)) byMethod.set(k, []);
  byMethod.get(k).push({ f, r });
}
const pct = (x) => (100 * x).toFixed(1);
const _median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length / 2);
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  '| method | seeds | final test acc (reported head) | online network, one-hot head | median of last 10 epochs (reported head) | best head, median of last 10 epochs (reference summary) | s / epoch | command |',
);
console.log('|---|---|---|---|---|---|---|---|');
const order = ['none', 'mixup', 'cutmix', 'manifoldmix', 'fmix', 'resizemix', 'saliencymix', 'automix'];
const keys = [...byMethod.keys()].sort((a, b) => order.indexOf(a.split('|')[0]) - order.indexOf(b.split('|')[0]) || b.localeCompare(a));
for (const key of keys) {
  const runs = byMethod.get(key);
  const m = key.split('|')[0];
  const finals = runs.map(({ r }) => r.final.test_acc);
  const online = runs.map(({ r }) => r.epochs.at(-1).test_acc_heads['online.head_one'] ?? r.epochs.at(-1).test_acc_heads['online.fc']);
  const med = runs.map(({ r }) => r.final.median_last10);
  // Files written before the four-head evaluation have no best_head_median_last10.
  const best = runs.map(({ r }) => r.final.best_head_median_last10);
  const bestCell = best.every(Boolean) ? best.map((b) => `${pct(b.acc)} (${b.head})`).join(' / ') : '—';
  const secs = runs.flatMap(({ r }) => r.epochs.map((e) => e.seconds));
  const c = runs[0].r.config;
  const extra = [
    c.model !== 'resnet18' ? `--model ${c.model}` : '',
    c.emaMomentum !== undefined && c.emaMomentum !== 0.999 && m === 'automix' ? `--ema-momentum ${c.emaMomentum}` : '',
    c.limitTrain ? `--limit-train ${c.limitTrain}` : '',
    c.limitTest ? `--limit-test ${c.limitTest}` : '',
  ].filter(Boolean);
  const cmd = ['automix train --method', m, '--width', c.width, ...extra, '--epochs', c.epochs, '--batch-size', c.batchSize, '--seed S'].join(' ');
  console.log(
    `| ${m === 'automix' ? `automix (EMA from ${runs[0].r.config.emaMomentum ?? 0.999})` : m} | ${runs.map(({ r }) => r.config.seed).join(', ')} | ${finals.map(pct).join(' / ')} (mean ${pct(mean(finals))}) | ${online.map(pct).join(' / ')} (mean ${pct(mean(online))}) | ${med.map(pct).join(' / ')} | ${bestCell} | ${mean(secs).toFixed(0)} | \`${cmd}\` |`,
  );
}
