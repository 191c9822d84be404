"""Dataset-level index endpoints: knowledge graph and RAPTOR (``/datasets/<id>/index``, ``/graph``) and their old names."""

from rest_framework.views import APIView

from accounts.authentication import tenant_id_of
from knowledgebases import index_services
from ragflow_site.api.responses import json_result, result


def _dataset(request, dataset_id: str, code: int = 102):
    return index_services.accessible_dataset(user=request.user, tenant_id=tenant_id_of(request), dataset_id=dataset_id, code=code)


def _trace(dataset, kind) -> dict:
    task = index_services.current_task(dataset=dataset, kind=kind)
    return index_services.task_data(task) if task is not None else {}


def _wipe(request) -> bool:
    # RAGFlow reads boolean query flags as ``value.lower() != "false"``.
    return request.GET.get("wipe", "true").lower() != "false"


class DatasetIndexView(APIView):
    """``POST|GET|DELETE /datasets/<id>/index?type=graph|raptor``: start, trace or delete an index."""

    def post(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        kind = index_services.index_kind(request.GET.get("type"))
        task = index_services.start_index(dataset=dataset, kind=kind)
        return result({"task_id": task.id})

    def get(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        kind = index_services.index_kind(request.GET.get("type"))
        return result(_trace(dataset, kind))

    def delete(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        kind = index_services.index_kind(request.GET.get("type"), code=101)
        index_services.delete_index(dataset=dataset, kind=kind, wipe=_wipe(request))
        return result({})


class DatasetGraphView(APIView):
    """``GET|DELETE /datasets/<id>/graph`` and the old ``/knowledge_graph``: read or delete the knowledge graph."""

    def get(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id, code=109)
        return result(index_services.graph_data(dataset))

    def delete(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        index_services.delete_index(dataset=dataset, kind=index_services.INDEX_KINDS["graph"], wipe=_wipe(request))
        return result({})


class DatasetRaptorView(APIView):
    """``DELETE /datasets/<id>/raptor``: the same as ``DELETE .../index?type=raptor``."""

    def delete(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        index_services.delete_index(dataset=dataset, kind=index_services.INDEX_KINDS["raptor"], wipe=_wipe(request))
        return result({})


class RunIndexAliasView(APIView):
    """Deprecated ``POST .../run_graphrag`` and ``.../run_raptor``; answers with RAGFlow's ``message`` key."""

    index_type = ""

    def post(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        task = index_services.start_index(dataset=dataset, kind=index_services.INDEX_KINDS[self.index_type])
        return json_result({"task_id": task.id})


class TraceIndexAliasView(APIView):
    """Deprecated ``GET .../trace_graphrag`` and ``.../trace_raptor``."""

    index_type = ""

    def get(self, request, dataset_id: str):
        dataset = _dataset(request, dataset_id)
        return json_result(_trace(dataset, index_services.INDEX_KINDS[self.index_type]))
