# Two commands do all set-up on a fresh machine (Python 3.11, root, package registries only):
#   make main   -> install, then run the main job with papermill
#   make test   -> install, then run the whole test suite (what .ci/run calls)
# Both are idempotent: a second run re-installs nothing.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
IPC ?= 10
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg

.PHONY: install data browser docs main test test-export test-clean test-nbs test-py figures readme lab notebooks

install: $(STAMP) data

$(STAMP): settings.ini setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Fashion-MNIST offline: Debian's dataset-fashion-mnist package (root, apt); else torchvision downloads it online.
data:
	@if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; fi

# Headless Chromium for the site's browser test: Debian's chromium and chromium-driver (root, apt); never a download.
browser:
	@if ! command -v chromedriver >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; fi

main: install
	$(BIN)/papermill nbs/05_eval.ipynb out.ipynb -p ipc $(IPC)

test: install browser test-export test-clean test-nbs test-py

# The exported library and the cleaned notebooks must equal what is committed.
test-export:
	$(BIN)/nbdev_export
	@git diff --exit-code --stat -- evlf && test -z "$$(git status --porcelain --untracked-files=all -- evlf)" \
	  || (echo 'evlf/ differs from nbdev_export of nbs/: run nbdev_export and commit'; exit 1)

test-clean:
	$(BIN)/nbdev_clean
	@git diff --exit-code --stat -- nbs || (echo 'notebooks are not clean: run nbdev_clean and commit'; exit 1)

test-nbs:
	$(BIN)/nbdev_test --n_workers 2 --timing

test-py:
	$(BIN)/python -m pytest -q tests

# Every figure and table: papermill runs nbs/<notebook>.ipynb with figures/params/<notebook>[-variant].yaml into runs/
# (git-ignored); the notebooks write figures/. `make figures ONLY=06_samples` runs the params files whose name
# contains 06_samples (ONLY=06_samples.yaml: that file alone); a failed run is reported at the end and the others still run.
figures: install
	$(BIN)/evlf figures --params figures/params --out runs $(if $(ONLY),--only $(ONLY))

# The README's headline table, regenerated from the committed JSON of the main table (tests/test_readme.py checks they agree).
readme: install
	$(BIN)/python -c "from evlf.report import sync_readme; print('README.md:', 'table regenerated' if sync_readme() else 'table already up to date')"

lab: install
	$(BIN)/jupyter lab nbs $(if $(filter 0,$(shell id -u)),--allow-root)  # root (containers): JupyterLab refuses it without the flag

# Every notebook executed for its outputs (what nbdev_test runs: no distilling, no training; figure notebooks draw from
# the committed records) and rewritten in place; a notebook whose run fails is left as it was.
notebooks: install
	$(BIN)/python tools/render_notebooks.py $(NB)
	$(BIN)/nbdev_clean

# The notebooks as a static website (nbconvert, MathML equations, no CDN) in _site/; open _site/index.html.
docs: install
	$(BIN)/python tools/build_docs.py --out _site
