# The seed's targets. IMAGE_REGISTRY and VERSION are settable: make docker-build IMAGE_REGISTRY=ghcr.io/me VERSION=v0.1
IMAGE_REGISTRY ?= ghcr.io/multinic
VERSION ?= v2.0.0
OPERATOR_IMAGE := $(IMAGE_REGISTRY)/multi-nic-cni-operator:$(VERSION)
DAEMON_IMAGE := $(IMAGE_REGISTRY)/multi-nicd:$(VERSION)
NAMESPACE := multi-nic-cni-operator

.PHONY: build test lab docker-build docker-push deploy undeploy operator-secret bundle concheck clean-concheck

build:
	swift build -c release >/dev/null && bash .ci/build-plugins release >/dev/null && bash .ci/build-cni release >/dev/null

test:
	bash .ci/run

lab:
	bash examples/run

docker-build:
	docker build -f deploy/docker/Dockerfile.operator -t $(OPERATOR_IMAGE) .
	docker build -f deploy/docker/Dockerfile.daemon -t $(DAEMON_IMAGE) .

docker-push:
	docker push $(OPERATOR_IMAGE)
	docker push $(DAEMON_IMAGE)

# Installs CRDs, RBAC and the operator, waits for the CRDs, then the default Config (whose daemon image follows
# IMAGE_REGISTRY/VERSION): a custom resource cannot be applied in the same request as its CRD on a fresh cluster.
deploy:
	kubectl kustomize deploy \
	  | sed -e 's#ghcr.io/multinic/multi-nic-cni-operator:v2.0.0#$(OPERATOR_IMAGE)#' | kubectl apply -f -
	kubectl wait --for=condition=Established --timeout=60s -f deploy/crd/
	kubectl kustomize deploy/config | sed -e 's#ghcr.io/multinic/multi-nicd:v2.0.0#$(DAEMON_IMAGE)#' | kubectl apply -f -

undeploy:
	kubectl delete multinicnetworks --all --ignore-not-found
	kubectl kustomize deploy/config | kubectl delete --ignore-not-found -f -
	kubectl kustomize deploy | kubectl delete --ignore-not-found -f -

# Pull secret for private registries: make operator-secret DOCKER_CONFIG_JSON=~/.docker/config.json
operator-secret:
	kubectl create namespace $(NAMESPACE) --dry-run=client -o yaml | kubectl apply -f -
	kubectl -n $(NAMESPACE) create secret generic multi-nic-cni-operator-pull --type=kubernetes.io/dockerconfigjson \
	  --from-file=.dockerconfigjson=$(DOCKER_CONFIG_JSON) --dry-run=client -o yaml | kubectl apply -f -

# One YAML with everything `deploy` applies, for air-gapped installs.
bundle:
	kubectl kustomize deploy > multi-nic-cni-bundle.yaml
	kubectl kustomize deploy/config > multi-nic-cni-config.yaml

# The connection check as a Job (connection-check/concheck.yaml): waits for it (up to 3000 s), then prints the table.
concheck:
	sed 's#ghcr.io/multinic/multi-nic-cni-operator:v2.0.0#$(OPERATOR_IMAGE)#' connection-check/concheck.yaml | kubectl create -f -
	kubectl -n default wait --for=condition=complete --timeout=3000s job/multi-nic-concheck || true
	kubectl -n default logs job/multi-nic-concheck

clean-concheck:
	kubectl delete pod -n default --selector multi-nic-concheck --ignore-not-found
	kubectl delete job -n default --selector multi-nic-concheck --ignore-not-found
	kubectl delete -f connection-check/concheck.yaml --ignore-not-found
