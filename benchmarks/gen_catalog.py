#!/usr/bin/env python3
# The synthetic catalog generator: seeded catalogs of N models in the API's response shape, and
# their "day 2" versions (--mutate), which benchmarks/run.py serves from the fake API.
#
# Copied from shared/bench/gen_catalog.py (the peer-benchmark folder that sat beside the
# checkout, ../shared/bench; its RESULTS.md is the run of 2026-11-23) on 2026-12-05, so that the
# benchmark needs nothing outside the repository. The logic is as it was there; what changed is
# ruff's layout and round(...) instead of int(round(...)) (the same int). The pathlib rules are
# waived (below) rather than rewriting its file handling.
# ruff: noqa: PTH123
"""Deterministic synthetic model-catalog generator.

    python gen_catalog.py N --seed S [--mutate FRACTION] --out FILE

Without --mutate: N models in the API's unfiltered response shape
({"models": [...], "count": N}).

With --mutate FRACTION: start from exactly the catalog the same N/--seed
would produce, then (with an RNG derived from the seed)
  * change base_cost of FRACTION of the models,
  * remove 1% of the models,
  * add 1% brand-new models (names never used by the base catalog),
so the output is a plausible "day 2" catalog.
"""

import argparse
import json
import random
import sys

PROVIDERS = {
    # provider: (label prefix, {type: model families})
    "kling": ("Kling", {"video": ["pro", "std", "master", "turbo"], "image": ["kolors"]}),
    "runway": ("Runway", {"video": ["gen3", "gen4", "gen4-turbo", "aleph"], "image": ["frames"]}),
    "luma": ("Luma", {"video": ["ray2", "ray2-flash"], "image": ["photon", "photon-flash"]}),
    "openai": ("OpenAI", {"image": ["gpt-image", "dalle3"], "video": ["sora", "sora-pro"]}),
    "google": ("Google", {"image": ["imagen4", "imagen4-ultra"], "video": ["veo3", "veo3-fast"]}),
    "stability": ("Stability", {"image": ["sd35-large", "sd35-medium", "sdxl", "ultra"]}),
    "bfl": ("FLUX", {"image": ["flux-pro", "flux-dev", "flux-kontext", "flux-schnell"]}),
    "minimax": ("MiniMax", {"video": ["hailuo-02", "hailuo-fast", "s2v"], "image": ["image-01"]}),
}
PROVIDER_NAMES = list(PROVIDERS)
TAG_POOL = [
    "new",
    "motion-control",
    "fast",
    "hd",
    "beta",
    "premium",
    "open-weights",
    "lip-sync",
    "upscale",
    "deprecated",
]
ASPECTS = ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "2:3", "3:2"]
IMAGE_RES = ["512px", "1K", "2K", "4K"]
VIDEO_RES = ["480p", "720p", "1080p", "4k"]
DURATIONS = [3, 4, 5, 6, 8, 10, 15, 20]


def _pick_ordered(rng, pool, kmin, kmax):
    k = rng.randint(kmin, min(kmax, len(pool)))
    idx = sorted(rng.sample(range(len(pool)), k))
    return [pool[i] for i in idx]


def make_model(rng, i):
    provider = (
        PROVIDER_NAMES[i % len(PROVIDER_NAMES)]
        if rng.random() < 0.3
        else rng.choice(PROVIDER_NAMES)
    )
    label_prefix, families = PROVIDERS[provider]
    mtype = rng.choice(sorted(families))
    family = rng.choice(families[mtype])
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 9)}"
    name = f"{provider}-{family}-v{version.replace('.', '')}-{i:07d}"
    label = f"{label_prefix} {family.replace('-', ' ').title()} {version}"
    aspects = _pick_ordered(rng, ASPECTS, 1, 5)
    if mtype == "video":
        resolutions = _pick_ordered(rng, VIDEO_RES, 1, 3)
        durations = _pick_ordered(rng, DURATIONS, 1, 3)
        caps = {
            "max_images": rng.choice([0, 1, 1, 1, 2]),
            "min_images": 0,
            "supported_aspect_ratios": aspects,
            "default_aspect_ratio": rng.choice(aspects),
            "supported_durations": durations,
            "default_duration": durations[0],
            "supported_resolutions": resolutions,
            "default_resolution": resolutions[0],
        }
        base_cost = round(rng.uniform(0.5, 15.0) * 2) / 2  # video: 0.5 .. 15 credits, halves
        has_audio = rng.random() < 0.4
    else:
        resolutions = _pick_ordered(rng, IMAGE_RES, 1, 3)
        max_images = rng.choice([1, 1, 2, 4, 4, 8])
        caps = {
            "max_images": max_images,
            "min_images": rng.choice([0, 0, 1]),
            "supported_aspect_ratios": aspects,
            "default_aspect_ratio": rng.choice(aspects),
            "supported_resolutions": resolutions,
            "default_resolution": resolutions[0],
        }
        base_cost = round(rng.uniform(0.02, 2.0), 2)
        has_audio = False
    tags = _pick_ordered(rng, TAG_POOL, 0, 3)
    return {
        "name": name,
        "label": label,
        "type": mtype,
        "provider": provider,
        "base_cost": base_cost,
        "has_audio": has_audio,
        "capabilities": caps,
        "tags": tags,
    }


def generate(n, seed):
    rng = random.Random(seed)
    return [make_model(rng, i) for i in range(n)]


def mutate(models, n, seed, fraction):
    rng = random.Random(f"mutate:{seed}")
    models = [dict(m) for m in models]
    n_change = round(len(models) * fraction)
    n_remove = max(1, round(len(models) * 0.01)) if models else 0
    n_add = max(1, round(len(models) * 0.01))
    # removals first, then cost changes among survivors
    removed = set(rng.sample(range(len(models)), n_remove))
    models = [m for j, m in enumerate(models) if j not in removed]
    for j in rng.sample(range(len(models)), min(n_change, len(models))):
        m = models[j]
        old = m["base_cost"]
        new = old
        while new == old:
            new = round(old * rng.choice([0.5, 0.8, 0.9, 1.1, 1.25, 1.5, 2.0]), 2)
            if new <= 0:
                new = 0.01
        m["base_cost"] = new
    add_rng = random.Random(f"add:{seed}")
    # new model indices start past n, so names never collide with base catalog
    models.extend(make_model(add_rng, n + k) for k in range(n_add))
    return models, {"changed_cost": n_change, "removed": n_remove, "added": n_add}


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--mutate", type=float, default=None, metavar="FRACTION")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    models = generate(a.n, a.seed)
    info = {}
    if a.mutate is not None:
        models, info = mutate(models, a.n, a.seed, a.mutate)
    with open(a.out, "w") as f:
        json.dump({"models": models, "count": len(models)}, f, separators=(",", ":"))
    print(f"wrote {a.out}: {len(models)} models {info}", file=sys.stderr)


if __name__ == "__main__":
    main()
