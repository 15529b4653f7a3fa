from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from agents.forms import AgentCreateForm
from agents.selectors import agent_list
from agents.services import agent_create, agent_sync
from calls.records_forms import DEFAULT_DAYS, default_days
from calls.records_selectors import agent_record_counts, parse_bound
from contactcenter.core.exceptions import ApplicationError
from contactcenter.core.http import require_http_methods, require_POST
from contactcenter.core.permissions import supervisor_required


@supervisor_required
def agent_list_page(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(agent_list(search=search), 50).get_page(request.GET.get("page"))
    # Their calls of the days the records dashboard shows by default, as it counts them.
    first_day, _ = default_days()
    counts = agent_record_counts(agent_ids=[agent.pk for agent in page], since=parse_bound(first_day.isoformat()))
    context = {
        "page": page,
        "rows": [(agent, counts[agent.pk]) for agent in page],
        "days": DEFAULT_DAYS,
        "search": search,
        "records_url": reverse("calls:records"),
    }
    return render(request, "agents/list.html", context)


@supervisor_required
@require_http_methods(["GET", "POST"])
def agent_create_page(request):
    form = AgentCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agent = agent_create(**form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Agent {agent.name} added in Smartflo (id {agent.smartflo_id}).")
            return redirect("agents:list")
    return render(request, "agents/create.html", {"form": form}, status=400 if form.errors else 200)


@supervisor_required
@require_POST
def agent_sync_page(request):
    try:
        result = agent_sync()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Synced from Smartflo: {result}.")
    return redirect("agents:list")
