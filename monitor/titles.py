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
    "answer_excluded": "сообщение исключено из рассылки ответа",
    "answer_included": "сообщение возвращено в рассылку ответа",
    "autopilot": "автопилот: передан исполнителю без модератора",
    "directline": "прямая линия: группа вопросов направлена исполнителю",
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
                  "resolve": "решение", "linked_reply": "ответ под связанным сообщением"}
PURPOSE_TITLES = {
    "acknowledgement": "первый ответ", "interim": "промежуточный ответ", "answer": "итоговый ответ",
    "info_request": "вопрос автору", "info_reminder": "напоминание автору",
    "feedback_question": "вопрос о решении", "info_closed": "закрыто без уточнения",
}
# failure kind -> what a moderator should know (shown on the incident page)
FAILURE_TITLES = {
    "token": "площадка не приняла токен аккаунта (недействителен или истёк) — администратору: "
             "обновите токен в переменной окружения и отправьте ответ снова",
    "no_token": "ответ не уходил: токен аккаунта организации не задан — администратору: задайте "
                "переменную окружения с токеном и отправьте ответ снова",
    "access": "нет доступа: аккаунт не может писать в это сообщество или чат (бот удалён, "
              "автор заблокировал бота, нет прав)",
    "comments_closed": "комментарии к записи закрыты или у сообщества нет права комментировать",
    "deleted": "сообщение жителя или запись удалены — отвечать некуда; при необходимости "
               "свяжитесь с автором иначе",
    "rate_limited": "платформа просит подождать (слишком много запросов) — повторим сами",
    "network": "площадка недоступна — повторим сами; если так и не удалось, отправьте снова позже",
    "server": "ошибка на стороне платформы — повторим сами",
    "captcha": "платформа требует капчу — отправьте ответ вручную",
    "no_account": "ответ не уходил: у организации нет привязанного аккаунта этой площадки — "
                  "привяжите его в разделе «Администрирование → Организации» и отправьте снова "
                  "или ответьте на площадке вручную",
    "unsupported": "ответ не уходил: на эту площадку ответ отсюда не отправить — ответьте на "
                   "площадке вручную",
    "too_long": "текст длиннее, чем принимает платформа — сократите и отправьте снова",
    "unknown": "запрос ушёл, ответа нет: ответ мог быть опубликован — проверьте на площадке",
    "other": "площадка отказала — прочитайте её ответ ниже, исправьте причину и отправьте снова",
}
REPLY_STATUS_TITLES = {
    "pending": "ждёт отправки", "sending": "отправляется",
    "published": "опубликован", "failed": "не отправлен", "unknown": "неизвестно, дошёл ли",
    "withdrawn": "не отправляется: модератор исключил сообщение",
}
# The incident history as sentences: event -> what the person did (the masculine past;
# monitor.incidents.history makes the feminine by the ending of the first word).
EVENT_VERBS = {
    "opened": "открыл инцидент",
    "confirm": "подтвердил",
    "reject": "отклонил",
    "assign": "направил в организацию",
    "acknowledge": "ответил автору",
    "submit_draft": "отправил черновик ответа на проверку",
    "return_draft": "вернул черновик на доработку",
    "approve_final": "утвердил итоговый ответ",
    "approve_interim": "утвердил промежуточный ответ",
    "ask_info": "запросил уточнение у автора",
    "info_received": "отметил, что уточнение получено",
    "resolve": "отметил, что проблема решена",
    "close": "закрыл",
    "reopen": "переоткрыл",
    "link_repeat": "отметил как повтор",
    "unlink_repeat": "отвязал повтор",
    "relabel": "исправил метки",
    "restored": "вернул инцидент в работу",
    "feedback": "оценил решение",
    "reply_retry": "отправил ответ повторно",
    "reply_confirmed": "подтвердил, что ответ опубликован",
    "handed_off": "передал инцидент на другой уровень",
    "extension_requested": "запросил перенос срока",
    "extension_approved": "одобрил перенос срока",
    "extension_refused": "отказал в переносе срока",
    "quality_marked": "оценил качество ответа",
}
# Events of the system, told without a person.
SYSTEM_EVENTS = {
    "opened": "Инцидент открыт", "deadline_warning": "Предупреждение: срок скоро истечёт",
    "deadline_breached": "Срок нарушен", "escalated": "Эскалация руководителю",
    "info_reminder": "Автору отправлено напоминание", "repeat_linked": "Привязан повтор",
    "reply_published": "Площадка приняла ответ", "reply_failed": "Ответ не отправлен",
    "reply_unknown": "Неизвестно, дошёл ли ответ",
    "spike_detected": "Массовый инцидент: всплеск похожих обращений",
    "restored": "Инцидент возвращён в работу",
    "close_unanswered": "Закрыт: автор не ответил на вопрос",
}
ACTOR_TITLES = {"system:ingest": "Система", "system:replies": "Публикатор ответов",
                "system:worker": "Система", "system:spikes": "Система", "system:bench": "Система"}
LABEL_NAME_TITLES = {"kind": "тип", "topic": "тема", "municipality": "муниципалитет",
                     "urgency": "срочность"}
# The incident's answer as the resident sees it: «дан ответ» only once the platform took it.
ANSWER_STATE_TITLES = {"pending": "ответ утверждён, ждёт отправки",
                       "sending": "ответ утверждён, отправляется",
                       "failed": "ответ утверждён, но не отправлен",
                       "unknown": "ответ утверждён, неизвестно, дошёл ли"}
AUDIT_TITLES = {
    "login": "вход", "login_failed": "неудачный вход", "logout": "выход",
    "models": "модели", "models_promote": "модель выпущена", "models_rollback": "модель откачена",
    "organisation_create": "организация добавлена", "organisation_update": "организация изменена",
    "routing_rule_add": "правило маршрутизации добавлено",
    "routing_rule_delete": "правило маршрутизации удалено", "source_add": "источник добавлен",
    "source_pause": "источник приостановлен", "source_resume": "источник возобновлён",
    "source_remove": "источник удалён",
    "user_create": "пользователь создан", "user_enable": "пользователь включён",
    "user_disable": "пользователь отключён", "user_password_reset": "пароль сброшен",
    "user_role": "роль изменена",
}
AUDIT_DETAIL_TITLES = {"ip": "IP-адрес", "reason": "причина", "from": "было", "to": "стало",
                       "role": "роль", "organisation": "организация", "name": "имя",
                       "rate_limited": "слишком много попыток",
                       "bad_credentials": "неверный логин или пароль"}
PLATFORM_TITLES = {"vk": "ВКонтакте", "telegram": "Telegram", "tg": "Telegram", "tgweb": "Telegram",
                   "max": "MAX", "ok": "Одноклассники", "replay": "запись", "inbox": "почта ЦУР"}
