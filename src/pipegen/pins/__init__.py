"""What pipegen pins in the files it writes, and how the pins are refreshed: container images by
digest (`images`, the catalog `images/catalog.yaml`; `registry`, the refresh through a registry's
manifest API). Actions are pinned by commit SHA in each backend (`platforms/github/backend.py`)."""
