#!/usr/bin/env python3
"""Extract the Kubernetes OpenAPI v2 definitions MultiNIC's manifests and written objects use.

Source: the Kubernetes release-1.32 OpenAPI document as published by kubernetes-client/python at tag v32.0.1
(`kubernetes/swagger.json.unprocessed`, generated from kubernetes/kubernetes api/openapi-spec at release-1.32).
Regenerate:

    git -C <kubernetes-client/python clone> show v32.0.1:kubernetes/swagger.json.unprocessed \
        | python3 Tests/Fixtures/KubernetesSchemas/extract.py > Tests/Fixtures/KubernetesSchemas/v1.32.json

Kept: every definition reachable from the root kinds below, without descriptions; `x-kubernetes-group-version-kind`
is kept so a validator can find a definition by apiVersion and kind.

The DRA kinds (resource.k8s.io/v1, GA in 1.34) come from release-1.34 (kubernetes-client/python v34.1.0):

    git -C <kubernetes-client/python clone> show v34.1.0:kubernetes/swagger.json.unprocessed \
        | python3 Tests/Fixtures/KubernetesSchemas/extract.py --release 1.34 --client v34.1.0 \
          io.k8s.api.resource.v1.ResourceSlice io.k8s.api.resource.v1.ResourceClaim \
          io.k8s.api.resource.v1.ResourceClaimTemplate io.k8s.api.resource.v1.DeviceClass \
        > Tests/Fixtures/KubernetesSchemas/v1.34-resource.json
"""
import json
import sys

ROOTS = [
    "io.k8s.api.apps.v1.DaemonSet", "io.k8s.api.apps.v1.Deployment", "io.k8s.api.batch.v1.Job",
    "io.k8s.api.core.v1.Namespace", "io.k8s.api.core.v1.ServiceAccount", "io.k8s.api.core.v1.Secret",
    "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.Event", "io.k8s.api.core.v1.ConfigMap",
    "io.k8s.api.rbac.v1.ClusterRole", "io.k8s.api.rbac.v1.ClusterRoleBinding", "io.k8s.api.rbac.v1.Role",
    "io.k8s.api.rbac.v1.RoleBinding", "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
    "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    "io.k8s.api.coordination.v1.Lease", "io.k8s.api.scheduling.v1.PriorityClass",
]
DROP = {"description", "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy", "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-unions", "default"}


def strip(node, names=False):
    """Drops annotations from a schema; `names` marks a `properties` map, whose keys are field names (kept)."""
    if isinstance(node, dict):
        if names:
            return {k: strip(v) for k, v in node.items()}
        return {k: strip(v, names=(k == "properties")) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.add(ref[len("#/definitions/"):])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def main():
    args = sys.argv[1:]
    release, client = "1.32", "v32.0.1"
    while args and args[0].startswith("--"):
        if args[0] == "--release":
            release = args[1]
        elif args[0] == "--client":
            client = args[1]
        args = args[2:]
    roots = args or ROOTS
    document = json.load(sys.stdin)
    definitions = document["definitions"]
    kept, queue = {}, list(roots)
    while queue:
        name = queue.pop()
        if name in kept:
            continue
        kept[name] = strip(definitions[name])
        found = set()
        refs(kept[name], found)
        queue.extend(sorted(found - kept.keys()))
    out = sys.stdout
    out.write('{"source": "kubernetes release-%s OpenAPI v2 (kubernetes-client/python %s)",\n "definitions": {\n' % (release, client))
    names = sorted(kept)
    for index, name in enumerate(names):
        comma = "," if index + 1 < len(names) else ""
        out.write("  %s: %s%s\n" % (json.dumps(name), json.dumps(kept[name], sort_keys=True), comma))
    out.write(" }\n}\n")


main()
