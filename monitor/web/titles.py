"""Russian names of the label values, for people."""

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
