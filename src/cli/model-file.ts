/**
 * Which exported network `automix eval` scores. A training run writes its reported network to
 * model.safetensors — for AutoMix the momentum network (the one the run's accuracy is of), for the
 * other methods the only network — and AutoMix's online network to model-online.safetensors. Each
 * file's metadata says which it holds (`automix_network`); files written before that was kept say
 * nothing (their model.safetensors held the online network).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError } from '../train/config.js';
import { decodeTensorFile, type TensorMap } from '../train/checkpoint.js';
import { MODEL_FILES } from '../train/trainer.js';

export const NETWORKS = ['momentum', 'online'] as const;
export type NetworkName = (typeof NETWORKS)[number];

export interface ModelFile {
  file: string;
  tensors: TensorMap;
  metadata: Record<string, string>;
  /** The network the file's metadata names; null for a file written before files named it. */
  network: NetworkName | null;
  /** For messages: "momentum network (model.safetensors)". */
  label: string;
}

/** `--network`'s value, checked: momentum, online, or undefined (not given). */
export function parseNetworkFlag(v: string | undefined): NetworkName | undefined {
  if (v === undefined) return undefined;
  if ((NETWORKS as readonly string[]).includes(v)) return v as NetworkName;
  throw new ConfigError(`--network: must be momentum or online, got '${v}'`);
}

/** The network named in a model file's metadata, or null. */
export function networkOf(metadata: Record<string, string>): NetworkName | null {
  const n = metadata.automix_network;
  return n === 'momentum' || n === 'online' ? n : null;
}

/** "momentum network (model.safetensors)"; for an unnamed file, what can be said of it. */
export function networkLabel(network: NetworkName | null, file: string): string {
  if (network) return `${network} network (${basename(file)})`;
  return `network not named in ${basename(file)} (written before model files named theirs; a model.safetensors of then held the online network)`;
}

/**
 * The model file `checkpoint` (a run directory or a file) and `network` pick, decoded. A directory
 * gives model.safetensors (its reported network: momentum for AutoMix), or model-online.safetensors
 * for `online` where the run has one; a file is used as given. A `network` the file does not hold
 * is refused, naming what it holds.
 * @throws ConfigError for a network the run or file does not have; CheckpointError for a missing
 * or malformed file.
 */
export function resolveModelFile(checkpoint: string, network?: NetworkName): ModelFile {
  const isDir = existsSync(checkpoint) && statSync(checkpoint).isDirectory();
  let file = checkpoint;
  if (isDir) {
    const online = join(checkpoint, MODEL_FILES.online);
    file = network === 'online' && existsSync(online) ? online : join(checkpoint, MODEL_FILES.reported);
  }
  const { tensors, metadata } = decodeTensorFile(file);
  const held = networkOf(metadata);
  if (network && held && held !== network) {
    const where = isDir ? `the run in ${checkpoint} has no ${network} network` : `${file} holds the ${held} network, not the ${network} one`;
    const why =
      network === 'momentum'
        ? ' (only AutoMix runs have one)'
        : held === 'momentum'
          ? ` (an AutoMix run writes it to ${MODEL_FILES.online} beside ${MODEL_FILES.reported}; pass the run directory or that file)`
          : '';
    throw new ConfigError(`--network ${network}: ${where}${why}`);
  }
  return { file, tensors, metadata, network: held, label: networkLabel(held, file) };
}
