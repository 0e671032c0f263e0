"""A small dictionary translator for the desk pages, Chinese first.

Why not Flask-Babel (yet): two languages and some two hundred strings still fit in one
table, with no catalogue to extract and compile at build time. Issue 7 asks for Babel;
the board and the pharmacy desk both grew this table instead, and moving means turning
each ``t(key)`` into ``gettext`` with a message catalogue. Each key holds its Chinese and English text
side by side, so a missing translation is visible at a glance (and a test
checks none is empty). The locale is the one the user picked with ``?lang=``
(kept in the session), else the signed-in user's ``locale``, else Chinese.
"""
from __future__ import annotations

from typing import Any

from flask import g
from flask import session as cookie

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

# key: (Chinese, English). ``{name}`` placeholders are filled by ``t(key, name=...)``.
MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("Doorstep 上门服务", "Doorstep"),
    "app.desk": ("调度台", "Dispatch desk"),
    "app.pharmacy_desk": ("药房工作台", "Pharmacy desk"),
    "nav.label": ("主导航", "Main"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "nav.board": ("调度看板", "Board"),
    "nav.parcels": ("药房包裹", "Parcels"),
    "nav.logout": ("退出登录", "Sign out"),
    "nav.language": ("语言", "Language"),
    "nav.signed_in_as": ("当前用户：{username}", "Signed in as {username}"),
    # Sign in
    "login.title": ("调度与药房登录", "Dispatch and pharmacy sign in"),
    "login.intro": ("调度员、药师和管理员请在此登录。护士和配送员请使用各自的应用。",
                    "For dispatchers, pharmacists and administrators. Nurses and couriers use their own apps."),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.error_heading": ("无法登录", "Could not sign you in"),
    "login.missing": ("请输入用户名和密码。", "Enter your username and password."),
    "login.wrong": ("用户名或密码错误。", "Wrong username or password."),
    "login.role": ("此页面仅供调度员、药师和管理员使用；请使用您的工作应用。",
                   "These pages are for dispatchers, pharmacists and administrators only; please use your work app."),
    "login.required": ("请先登录。", "Please sign in first."),
    "logout.done": ("您已退出登录。", "You have signed out."),
    # Board
    "board.title": ("调度看板", "Dispatch board"),
    "board.heading": ("{date} 调度看板", "Dispatch board for {date}"),
    "board.date": ("日期", "Date"),
    "board.show": ("查看", "Show"),
    "board.refresh": ("刷新", "Refresh"),
    "board.plan_day": ("为这一天排班", "Plan this day"),
    "board.plan_hint": ("按当天已受理、待配送的订单和在班人员重新计算路线。",
                        "Builds routes from the day's accepted and ready orders and the workers on shift."),
    "board.planned": ("已为 {date} 提交排班 #{id}（{status}）。",
                      "Plan #{id} for {date} requested ({status})."),
    "orders.heading": ("当日订单", "Orders of the day"),
    "orders.caption": ("按类型和状态统计的订单数", "Orders by kind and status"),
    "orders.status": ("状态", "Status"),
    "orders.total": ("合计", "Total"),
    "orders.none": ("这一天没有订单。", "No orders on this day."),
    "plan.heading": ("最新排班", "Latest plan"),
    "plan.none": ("这一天还没有排班。", "No plan for this day yet."),
    "plan.id": ("排班编号", "Plan"),
    "plan.status": ("状态", "Status"),
    "plan.requested_at": ("提交时间", "Requested"),
    "plan.finished_at": ("完成时间", "Finished"),
    "plan.districts": ("区域", "Districts"),
    "plan.all_districts": ("全部区域", "All districts"),
    "plan.progress": ("进度", "Progress"),
    "plan.error": ("失败原因", "Why it failed"),
    "plan.waiting": ("排班计算中，请稍后刷新。", "The plan is being built; refresh in a moment."),
    "summary.assigned": ("已分配任务", "Tasks assigned"),
    "summary.unassigned": ("未分配任务", "Tasks unassigned"),
    "summary.workers": ("出勤人员", "Workers with routes"),
    "summary.travel_minutes": ("总路程时间（分钟）", "Travel time (min)"),
    "summary.distance_km": ("总里程（公里）", "Distance (km)"),
    "summary.solve_seconds": ("计算用时（秒）", "Solve time (s)"),
    "routes.heading": ("各人员路线", "Routes per worker"),
    "routes.none": ("没有路线。", "No routes."),
    "routes.tasks": ("任务数", "Tasks"),
    "routes.travel": ("路程（分钟）", "Travel (min)"),
    "routes.stops_caption": ("{name} 的停靠点（按顺序）", "Stops of {name}, in order"),
    "stop.seq": ("序号", "#"),
    "stop.type": ("类型", "Type"),
    "stop.start": ("计划开始", "Planned start"),
    "stop.order": ("订单", "Order"),
    "stop.district": ("区域", "District"),
    "stop.order_status": ("订单状态", "Order status"),
    "unassigned.heading": ("未分配任务", "Unassigned tasks"),
    "unassigned.caption": ("未能分配的任务及原因", "Tasks left out, with reasons"),
    "unassigned.none": ("所有任务都已分配。", "Every task is assigned."),
    "unassigned.task": ("任务", "Task"),
    "unassigned.reason": ("原因", "Reason"),
    "unassigned.detail": ("说明", "Detail"),
    "sos.heading": ("紧急求助：{count} 条未处理", "SOS: {count} open"),
    "sos.at": ("{time}，{kind} {name}", "{time}, {kind} {name}"),
    "sos.position": ("位置 {lat}, {lon}", "at {lat}, {lon}"),
    # Pharmacy desk
    "parcels.title": ("药房包裹", "Parcels"),
    "parcels.tabs": ("包裹视图", "Parcel views"),
    "parcels.tab.review": ("待审方", "Review queue"),
    "parcels.tab.failed": ("配送失败", "Failed deliveries"),
    "parcels.tab.all": ("全部包裹", "All parcels"),
    "parcels.heading.review": ("待审方的处方包裹", "Parcels awaiting review"),
    "parcels.heading.failed": ("配送失败的包裹", "Failed deliveries"),
    "parcels.heading.all": ("全部包裹", "All parcels"),
    "parcels.intro.review": ("核对处方后放行配送，或填写原因拒绝。",
                             "Check each prescription, then release the parcel for delivery or reject it with a reason."),
    "parcels.intro.failed": ("为失败的包裹重新约定配送时间，或退回药房。",
                             "Send a failed parcel again on a new window, or return it to the pharmacy."),
    "parcels.intro.all": ("按状态和日期筛选；或按运单号、处方号、患者电话精确查找。",
                          "Filter by status and date; or find a parcel by tracking code, prescription or the patient's phone."),
    "parcels.none.review": ("没有待审方的包裹。", "No parcel is waiting for review."),
    "parcels.none.failed": ("没有配送失败的包裹。", "No failed deliveries."),
    "parcels.none.all": ("没有符合条件的包裹。", "No parcel matches."),
    "parcels.read_only": ("调度员在此仅可查看；审方由药房药师完成。",
                          "Dispatchers read here; the pharmacy's pharmacists review and act."),
    "parcels.search": ("查找", "Find"),
    "parcels.search_label": ("运单号、处方号或患者电话", "Tracking code, prescription or patient's phone"),
    "parcels.search_hint": ("精确匹配；电话可带 +86、空格或短横线。",
                            "Exact matches; a phone may have +86, spaces or dashes."),
    "parcels.filter": ("筛选", "Filter"),
    "parcels.filters": ("筛选条件", "Filters"),
    "parcels.any_status": ("全部状态", "Any status"),
    "parcels.clear": ("清除", "Clear"),
    "parcels.searched": ("“{q}”的查找结果", "Results for “{q}”"),
    "parcels.next": ("下一页", "Next page"),
    "parcels.previous": ("上一页", "Previous page"),
    "parcels.page": ("第 {page} 页", "Page {page}"),
    "parcel.heading": ("包裹 {code}", "Parcel {code}"),
    "parcel.tracking_code": ("运单号", "Tracking code"),
    "parcel.prescription": ("处方号", "Prescription"),
    "parcel.patient": ("患者", "Patient"),
    "parcel.district": ("区域", "District"),
    "parcel.date": ("配送日期", "Date"),
    "parcel.window": ("时间窗口", "Window"),
    "parcel.no_window": ("未指定", "Any time"),
    "parcel.items": ("药品数", "Items"),
    "parcel.status": ("状态", "Status"),
    "parcel.pharmacy": ("药房", "Pharmacy"),
    "parcel.created": ("开单时间", "Created"),
    "parcel.cold_chain": ("冷链", "Cold chain"),
    "parcel.cold_minutes": ("冷链（离冰箱最长 {minutes} 分钟）", "Cold chain (at most {minutes} min out of the fridge)"),
    "parcel.reason": ("原因", "Reason"),
    "parcel.open": ("查看包裹 {code}", "Open parcel {code}"),
    "parcel.label": ("打印面单", "Print label"),
    "parcel.label_hint": ("（PDF，新标签页打开）", "(PDF, opens in a new tab)"),
    "parcel.items_heading": ("药品", "Items"),
    "parcel.item_name": ("名称", "Name"),
    "parcel.item_quantity": ("数量", "Quantity"),
    "parcel.history_heading": ("状态记录", "History"),
    "parcel.history_at": ("时间", "When"),
    "parcel.history_change": ("变更", "Change"),
    "parcel.actions": ("操作", "Actions"),
    "parcel.no_actions": ("此状态下没有可做的操作。", "Nothing to do in this status."),
    "parcel.approve": ("审方通过，放行 {code}", "Approve {code}"),
    "parcel.reject_open": ("拒绝…", "Reject…"),
    "parcel.reject": ("拒绝 {code}", "Reject {code}"),
    "parcel.reject_reason": ("拒绝原因（必填）", "Why it is rejected (required)"),
    "parcel.redeliver_heading": ("重新配送", "Deliver again"),
    "parcel.redeliver": ("重新配送 {code}", "Deliver {code} again"),
    "parcel.redeliver_date": ("新的配送日期", "New date"),
    "parcel.redeliver_start": ("开始时间", "From"),
    "parcel.redeliver_end": ("结束时间", "Until"),
    "parcel.redeliver_reason": ("备注（可选）", "Note (optional)"),
    "parcel.return_heading": ("退回药房", "Return to the pharmacy"),
    "parcel.return": ("退回 {code}", "Return {code}"),
    "parcel.return_reason": ("退回原因（必填）", "Why it goes back (required)"),
    "parcel.back": ("返回列表", "Back to the list"),
    "parcel.approved": ("{code} 已审方通过（{status}）。", "{code} approved ({status})."),
    "parcel.rejected": ("{code} 已拒绝。", "{code} rejected."),
    "parcel.redelivered": ("{code} 已安排重新配送（{status}）。", "{code} will be delivered again ({status})."),
    "parcel.returned": ("{code} 已退回药房。", "{code} returned to the pharmacy."),
    "parcel.stale": ("这个包裹的状态已经变了（可能有人刚处理过）；请查看后再操作。",
                     "This parcel's status has changed (someone may just have handled it); check it and try again."),
    "parcel.two_person": ("双人审方：开单的药师不能审核自己的处方，请另一位药师审核。",
                          "Two-person review: the pharmacist who created the order may not review it; ask a colleague."),
    "form.error_heading": ("请修改以下内容", "Please correct the following"),
    "form.error.reason": ("请填写原因。", "Give a reason."),
    "form.error.date": ("日期应为 YYYY-MM-DD 格式。{detail}", "The date must look like YYYY-MM-DD. {detail}"),
    "form.error.time": ("时间应为 HH:MM 格式。", "The time must look like HH:MM."),
    "form.error.start": ("开始时间无效：{detail}", "The start is not valid: {detail}"),
    "form.error.end": ("时间窗口无效：{detail}", "The window is not valid: {detail}"),
    "form.error.form": ("无法保存：{detail}", "Could not save: {detail}"),
    # Errors
    "error.back": ("返回调度看板", "Back to the board"),
    "error.back_parcels": ("返回药房包裹", "Back to the parcels"),
    "error.csrf": ("表单已过期或来自其他页面。请返回、刷新后重试。",
                   "The form has expired or came from another page. Go back, reload and try again."),
    "error.bad_date": ("日期应为 YYYY-MM-DD 格式。", "The date must look like YYYY-MM-DD."),
    "error.title.400": ("请求无效", "Bad request"),
    "error.title.401": ("需要登录", "Sign in needed"),
    "error.title.403": ("无权访问", "Not allowed"),
    "error.title.404": ("找不到页面", "Page not found"),
    "error.title.405": ("不支持此操作", "Not allowed here"),
    "error.title.409": ("数据冲突", "Conflict"),
    "error.title.422": ("输入有误", "Check your input"),
    "error.title.500": ("系统出错", "Something went wrong"),
    "error.detail.403": ("您的角色不能查看此页面。", "Your role may not see this page."),
    "error.detail.404": ("没有这个页面。", "There is no such page."),
    "error.detail.409": ("有人同时修改了这条记录；请刷新后重试。",
                         "Someone changed this at the same time; reload and try again."),
    "error.detail.500": ("我们这边出了问题，已记录。", "Something went wrong on our side; it has been logged."),
    "error.detail.other": ("无法完成此请求。", "This request could not be completed."),
    # Vocabulary: kinds, statuses, stop types, reason codes, districts.
    "kind.care": ("护理", "Care"),
    "kind.delivery": ("配送", "Delivery"),
    "worker.nurse": ("护士", "Nurse"),
    "worker.courier": ("配送员", "Courier"),
    "status.requested": ("待分诊", "Requested"),
    "status.awaiting_review": ("待审方", "Awaiting review"),
    "status.accepted": ("已受理", "Accepted"),
    "status.ready": ("待配送", "Ready"),
    "status.scheduled": ("已排班", "Scheduled"),
    "status.en_route": ("在途", "En route"),
    "status.picked_up": ("已取件", "Picked up"),
    "status.out_for_delivery": ("配送中", "Out for delivery"),
    "status.in_progress": ("服务中", "In progress"),
    "status.completed": ("已完成", "Completed"),
    "status.delivered": ("已送达", "Delivered"),
    "status.rejected": ("已拒绝", "Rejected"),
    "status.cancelled": ("已取消", "Cancelled"),
    "status.failed": ("失败", "Failed"),
    "status.returned": ("已退回", "Returned"),
    "plan_status.queued": ("排队中", "Queued"),
    "plan_status.solving": ("计算中", "Solving"),
    "plan_status.done": ("已完成", "Done"),
    "plan_status.failed": ("失败", "Failed"),
    "stop_type.start": ("出发", "Start"),
    "stop_type.visit": ("上门服务", "Visit"),
    "stop_type.pickup": ("取件", "Pickup"),
    "stop_type.dropoff": ("送达", "Drop-off"),
    "stop_type.break": ("休息", "Break"),
    "stop_type.end": ("收工", "End"),
    "reason.no_worker_with_skills": ("没有具备所需技能的人员", "No worker has the skills"),
    "reason.no_worker_in_district": ("该区域没有人员", "No worker covers the district"),
    "reason.no_worker_of_kind": ("没有该类型的人员", "No worker of this kind"),
    "reason.time_window_unreachable": ("时间窗口内无法到达", "Time window unreachable"),
    "reason.capacity": ("容量不足", "Not enough capacity"),
    "reason.shift_too_short": ("班次时间不足", "Shift too short"),
    "reason.not_worth_serving": ("为完成其他任务而放弃", "Dropped in favour of other tasks"),
    "district.heping": ("和平区", "Heping"),
    "district.hexi": ("河西区", "Hexi"),
    "district.nankai": ("南开区", "Nankai"),
    "district.hedong": ("河东区", "Hedong"),
    "district.hebei": ("河北区", "Hebei"),
    "district.hongqiao": ("红桥区", "Hongqiao"),
}

# The administration pages' keys (workers, catalogue, districts, users, audit) live in their own block.
from admin.admin_messages import ADMIN_MESSAGES  # noqa: E402
MESSAGES.update(ADMIN_MESSAGES)
from admin.board_messages import BOARD_MESSAGES  # noqa: E402  (the dispatcher board's block)
MESSAGES.update(BOARD_MESSAGES)


def normalise_locale(value: str | None) -> str | None:
    """``"zh-CN"``, ``"en_US"``, ``"EN"`` → ``"zh"`` / ``"en"``; anything else → None."""
    if not value:
        return None
    code = value.replace("_", "-").split("-")[0].lower()
    return code if code in LOCALES else None


def current_locale() -> str:
    """The language chosen in this session, else the user's own, else Chinese."""
    return (normalise_locale(cookie.get("lang")) or normalise_locale(g.get("user_locale"))
            or DEFAULT_LOCALE)


def choose_locale(value: str | None) -> bool:
    """Remember ``?lang=`` in the session; False (and nothing stored) for an unknown code."""
    code = normalise_locale(value)
    if code is None:
        return False
    cookie["lang"] = code
    return True


def t(key: str, **params: Any) -> str:
    """The text of ``key`` in the current locale, placeholders filled; the key if unknown."""
    texts = MESSAGES.get(key)
    if texts is None:
        return key.format(**params) if params else key
    text = texts[LOCALES.index(current_locale())]
    return text.format(**params) if params else text


def label(group: str, code: str | None) -> str:
    """A code of a fixed vocabulary (``status``, ``reason``...) in words; the code if unknown."""
    if code is None:
        return ""
    key = f"{group}.{code}"
    return t(key) if key in MESSAGES else code
