"""Suite definitions (manifests and recipes); installed as tfbench.data_manifests."""
