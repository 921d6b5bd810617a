"""Russian names of values, for people: the one place where display titles live.

Labels, incident statuses and actions, deadline targets, roles, reply states and
failures, report groups. Plain dictionaries keyed by the values as stored; this module
imports nothing, so every layer may use it.
"""

KIND_TITLES = {"complaint": "жалоба", "question": "вопрос", "suggestion": "предложение",
               "gratitude": "благодарность", "other": "прочее"}
TOPIC_TITLES = {
    "housing": "ЖКХ", "improvement": "благоустройство", "roads_transport": "дороги и транспорт",
    "ecology_waste": "экология и мусор", "health": "здравоохранение", "education": "образование",
    "social": "соцзащита", "construction": "строительство", "public_services": "госуслуги и МФЦ",
    "safety": "безопасность", "business": "торговля и бизнес", "other": "прочее",
}
URGENCY_TITLES = {"critical": "критично", "high": "высокая", "normal": "обычная", "low": "низкая"}
DEADLINE_TITLES = {"on_time": "в срок", "due_soon": "скоро срок", "overdue": "просрочен",
                   "met": "выполнен в срок", "met_late": "выполнен с опозданием", "none": "—"}
STATUS_TITLES = {
    "new": "новый", "confirmed": "подтверждён", "assigned": "назначен", "draft_review": "черновик на проверке",
    "answered": "дан ответ", "in_progress": "в работе", "needs_info": "ждём автора",
    "resolved": "решён", "closed": "закрыт", "rejected": "отклонён",
}
ORGANISATION_KIND_TITLES = {"administration": "администрация", "ministry": "министерство",
                            "cur": "ЦУР", "service": "служба"}
SORT_TITLES = {"deadline": "срок и срочность", "newest": "сначала новые"}
ACTION_TITLES = {
    "confirm": "подтвердить", "reject": "отклонить", "assign": "направить в организацию",
    "acknowledge": "первый ответ автору", "submit_draft": "отправить черновик ответа",
    "return_draft": "вернуть черновик на доработку", "approve_final": "утвердить итоговый ответ",
    "approve_interim": "утвердить промежуточный ответ", "ask_info": "запросить уточнение у автора",
    "info_received": "уточнение получено", "resolve": "проблема решена", "close": "закрыть",
    "reopen": "переоткрыть", "link_repeat": "отметить как повтор",
    "unlink_repeat": "отвязать повтор", "relabel": "исправить метки",
    "close_unanswered": "закрыт: автор не ответил на вопрос",
}
TARGET_TITLES = {"first_reply": "первый ответ", "executor": "передача исполнителю",
                 "draft": "черновик ответа", "resolve": "итоговый ответ"}
CLOCK_TITLES = {"on_time": "в срок", "due_soon": "скоро срок", "overdue": "просрочен",
                "met": "выполнен", "met_late": "выполнен с опозданием",
                "paused": "на паузе: ждём автора", "none": "не начат"}
EVENT_TITLES = {
    **ACTION_TITLES, "opened": "открыт", "deadline_warning": "предупреждение о сроке",
    "deadline_breached": "срок нарушен", "escalated": "эскалация", "info_reminder":
    "напоминание автору", "feedback": "оценка жителя", "repeat_linked": "привязан повтор",
    "reply_published": "ответ опубликован", "reply_failed": "ответ не отправлен",
    "reply_unknown": "неизвестно, дошёл ли ответ", "reply_retry": "ответ отправлен повторно",
    "reply_confirmed": "публикация ответа подтверждена", "handed_off": "передан между уровнями",
    "extension_requested": "запрошен перенос срока", "extension_approved": "перенос срока одобрен",
    "extension_refused": "в переносе срока отказано", "quality_marked": "оценено качество ответа",
    "spike_detected": "массовый инцидент: всплеск похожих обращений",
}
TIER_TITLES = {"regional": "региональный ЦУР", "municipal": "муниципальный ЦУР"}
QUALITY_TITLES = {"good": "по существу", "formal": "формальная отписка",
                  "empty": "нет ответа по существу"}
EXTENSION_STATUS_TITLES = {"pending": "ждёт решения", "approved": "одобрен", "refused": "отказано",
                           "withdrawn": "отозван"}
ROLE_TITLES = {"admin": "администратор", "moderator": "модератор ЦУР", "official": "сотрудник органа",
               "data_scientist": "аналитик данных"}
CHANNEL_TITLES = {"vk_post": "пост ВК", "vk_comment": "комментарий ВК", "telegram": "Telegram",
                  "max": "MAX", "ok_post": "тема ОК", "ok_comment": "комментарий ОК",
                  "ok_message": "сообщение группе ОК"}
GROUP_TITLES = {"day": "день", "week": "неделя", "month": "месяц", "organisation": "организация",
                "municipality": "муниципалитет", "topic": "тема", "channel": "канал",
                "all": "всего"}
MEASURE_TITLES = {"first_reply": "первый ответ", "executor": "передача исполнителю",
                  "resolve": "решение"}
PURPOSE_TITLES = {
    "acknowledgement": "первый ответ", "interim": "промежуточный ответ", "answer": "итоговый ответ",
    "info_request": "вопрос автору", "info_reminder": "напоминание автору",
    "feedback_question": "вопрос о решении", "info_closed": "закрыто без уточнения",
}
# failure kind -> what a moderator should know (shown on the incident page)
FAILURE_TITLES = {
    "token": "токен аккаунта недействителен, истёк или не задан — обновите переменную окружения "
             "и отправьте снова",
    "access": "нет доступа: аккаунт не может писать в это сообщество или чат (бот удалён, "
              "автор заблокировал бота, нет прав)",
    "comments_closed": "комментарии к записи закрыты или у сообщества нет права комментировать",
    "deleted": "сообщение жителя или запись удалены",
    "rate_limited": "платформа просит подождать (слишком много запросов) — повторим сами",
    "network": "платформа недоступна — повторим сами",
    "server": "ошибка на стороне платформы — повторим сами",
    "captcha": "платформа требует капчу — отправьте ответ вручную",
    "no_account": "нет привязанного аккаунта организации для этой площадки",
    "unsupported": "на эту площадку ответ отправить нельзя — ответьте вручную",
    "too_long": "текст длиннее, чем принимает платформа — сократите и отправьте снова",
    "unknown": "запрос ушёл, ответа нет: ответ мог быть опубликован — проверьте на площадке",
    "other": "платформа отказала",
}
REPLY_STATUS_TITLES = {
    "pending": "ждёт отправки", "sending": "отправляется",
    "published": "опубликован", "failed": "не отправлен", "unknown": "неизвестно, дошёл ли",
}
