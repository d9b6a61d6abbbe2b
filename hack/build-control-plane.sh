#!/usr/bin/env bash
# Placeholder until the control plane build lands: nothing to build yet.
echo "control plane: not built yet (hack/build-control-plane.sh is a placeholder)"
