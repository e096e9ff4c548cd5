"""PyTorch CPU side of `npm run bench:train`: the same training work as the Node side, on the
same images, with the same architecture (torchvision's MobileNetV2; random weights are fine
for speed).

  strategy 3: pooled features of every training image (cold: includes the frozen forward pass),
              then a dense softmax head trained for EPOCHS epochs on them (warm: the head alone)
  strategy 2: the top block (features[17], Keras' block_16) + the last 1x1 conv + head trainable;
              the frozen part's activations are computed once, then one epoch of steps of
              BATCH images is timed (forward + backward + Adam step)

Like the app, strategy 3 computes features for every image of every split, plus VARIANTS
augmented copies of each (a flipped copy here: the same forward cost), and trains the head on
the training split's features.

  strategy 1: the whole network + head trainable (BatchNorm in inference mode, as the app),
              one epoch of steps of BATCH images decoded at each size in FULL_SIZES (e.g.
              "160,224"), with a random flip as augmentation

Reports CPU time over wall time while timed (cores in use). Prints one JSON line.
Usage: train_torch.py THREADS EPOCHS BATCH CLASSES VARIANTS FULL_SIZES FILE:LABEL:SPLIT...
"""
import json
import sys
import time

import torch
import torchvision

import features_torch
from features_torch import decode


def timed(fn):
    """Runs fn(); returns (wall ms, cores used = CPU time / wall time)."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    return round(wall * 1000), round(cpu / wall, 2)


def main():
    threads, epochs, batch, classes, variants = (int(a) for a in sys.argv[1:6])
    full_sizes = [int(s) for s in sys.argv[6].split(",") if s]
    items = [a.rsplit(":", 2) for a in sys.argv[7:]]
    all_files = [f for f, _, _ in items]
    train_idx = [i for i, (_, _, s) in enumerate(items) if s == "train"]
    files = [all_files[i] for i in train_idx]
    labels = torch.tensor([int(items[i][1]) for i in train_idx])
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    net = torchvision.models.mobilenet_v2(weights=None).features.eval()
    frozen_all, frozen_below_top = net, net[:17]

    # Strategy 3, cold: decode + frozen forward + pooling, then the head.
    t0 = time.perf_counter()
    per_variant = [[] for _ in range(1 + variants)]
    with torch.no_grad():
        for i in range(0, len(all_files), 16):
            x = torch.stack([decode(f) for f in all_files[i : i + 16]])
            for v in range(1 + variants):
                xv = x if v == 0 else torch.flip(x, dims=[3])
                per_variant[v].append(frozen_all(xv).mean(dim=(2, 3)))
    # The head trains on the training split's features and their augmented copies, as ours does.
    idx = torch.tensor(train_idx)
    feats = torch.cat([torch.cat(rows)[idx] for rows in per_variant])
    labels = labels.repeat(1 + variants)
    t_features = time.perf_counter() - t0

    def train_head():
        head = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(feats.shape[1], classes))
        opt = torch.optim.Adam(head.parameters(), lr=2e-3)
        head.train()
        t = time.perf_counter()
        for _ in range(epochs):
            perm = torch.randperm(len(feats))
            for i in range(0, len(feats), 64):
                idx = perm[i : i + 64]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(head(feats[idx]), labels[idx])
                loss.backward()
                opt.step()
        return time.perf_counter() - t

    t_head = train_head()

    # Strategy 2: cache the activations below the top block once, then train the top.
    with torch.no_grad():
        acts = []
        for i in range(0, len(files), 16):
            x = torch.stack([decode(f) for f in files[i : i + 16]])
            acts.append(frozen_below_top(x))
        acts = torch.cat(acts)
    top = torch.nn.Sequential(net[17], net[18])
    for p in top.parameters():
        p.requires_grad_(True)
    top.eval()  # BatchNorm in inference mode while fine-tuning, as the app does
    head = torch.nn.Linear(1280, classes)
    opt = torch.optim.Adam(list(top.parameters()) + list(head.parameters()), lr=1e-4)
    steps = (len(acts) + batch - 1) // batch
    perm = torch.randperm(len(acts))

    def partial_epoch():
        for s in range(steps):
            idx = perm[s * batch : (s + 1) * batch]
            opt.zero_grad()
            out = head(top(acts[idx]).mean(dim=(2, 3)))
            loss = torch.nn.functional.cross_entropy(out, labels[idx])
            loss.backward()
            opt.step()

    t_partial_epoch, partial_cores = timed(partial_epoch)

    # Strategy 1 at each size: the whole network trains (fresh copy, BatchNorm frozen).
    full = {}
    for size in full_sizes:
        features_torch.SIZE = size
        images = torch.stack([decode(f) for f in files])
        net1 = torchvision.models.mobilenet_v2(weights=None).features.eval()
        head1 = torch.nn.Linear(1280, classes)
        opt1 = torch.optim.Adam(list(net1.parameters()) + list(head1.parameters()), lr=1e-5)
        order = torch.randperm(len(images))

        def full_epoch():
            for s in range(steps):
                idx = order[s * batch : (s + 1) * batch]
                x = images[idx]
                x = torch.where(torch.rand(len(idx), 1, 1, 1) < 0.5, torch.flip(x, dims=[3]), x)
                opt1.zero_grad()
                loss = torch.nn.functional.cross_entropy(head1(net1(x).mean(dim=(2, 3))), labels[: len(files)][idx])
                loss.backward()
                opt1.step()

        ms, cores = timed(full_epoch)
        full[str(size)] = {"epochMs": ms, "cores": cores}

    print(json.dumps({
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "images": len(all_files),
        "trainImages": len(files),
        "forwardPasses": len(all_files) * (1 + variants),
        "strategy3ColdMs": round((t_features + t_head) * 1000),
        "strategy3WarmMs": round(t_head * 1000),
        "headEpochs": epochs,
        "strategy2EpochMs": t_partial_epoch,
        "strategy2Cores": partial_cores,
        "strategy2Steps": steps,
        "strategy1": full,
    }))


if __name__ == "__main__":
    main()
