"""A small dictionary translator for the desk pages, Chinese first.

Why not Flask-Babel yet: two languages and about a hundred strings fit in one
table, and issue 7 moves to Babel. Each key holds its Chinese and English text
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
    "nav.label": ("主导航", "Main"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "nav.board": ("调度看板", "Board"),
    "nav.logout": ("退出登录", "Sign out"),
    "nav.language": ("语言", "Language"),
    "nav.signed_in_as": ("当前用户：{username}", "Signed in as {username}"),
    # Sign in
    "login.title": ("调度员登录", "Dispatcher sign in"),
    "login.intro": ("调度员和管理员请在此登录。护士、配送员和药师请使用各自的应用。",
                    "For dispatchers and administrators. Nurses, couriers and pharmacists use their own apps."),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.error_heading": ("无法登录", "Could not sign you in"),
    "login.missing": ("请输入用户名和密码。", "Enter your username and password."),
    "login.wrong": ("用户名或密码错误。", "Wrong username or password."),
    "login.role": ("此页面仅供调度员和管理员使用；请使用您的工作应用。",
                   "These pages are for dispatchers and administrators only; please use your work app."),
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
    # Errors
    "error.back": ("返回调度看板", "Back to the board"),
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
