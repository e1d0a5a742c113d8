"""Deployment descriptions: Kubernetes manifests and the compose file, rendered and checked offline."""
