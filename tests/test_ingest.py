from datetime import timedelta

from monitor.ingest import ingest
from monitor.ingest.post import Post


def post(ctx, text, external_id="-100003_10_1", source="vk:-100003", channel="vk_comment"):
    return Post(source, external_id, channel, text, ctx.clock.now() - timedelta(minutes=5),
                author_name="Ирина", raw={"text": text})


def count(ctx, table):
    return ctx.db[table].count


def test_same_post_twice_is_stored_once(ctx):
    complaint = post(ctx, "Третий день нет горячей воды на Гайдара 12, УК не отвечает!")
    first = ingest(ctx, [complaint])
    second = ingest(ctx, [complaint])
    assert (first.stored, first.incidents) == (1, 1)
    assert (second.stored, second.duplicates, second.incidents) == (0, 1, 0)
    assert count(ctx, "posts") == count(ctx, "labels") == count(ctx, "incidents") == 1


def test_duplicate_inside_one_batch_is_stored_once(ctx):
    complaint = post(ctx, "Яма на дороге у школы, машины бьют колёса")
    report = ingest(ctx, [complaint, complaint])
    assert report.stored == 1 and count(ctx, "posts") == 1


def test_complaint_opens_a_new_incident_with_an_event_and_a_deadline(ctx):
    ingest(ctx, [post(ctx, "В подъезде сильно пахнет газом, дети дома, приезжайте срочно!")])
    [incident] = list(ctx.db["incidents"].rows)
    assert incident["status"] == "new"
    assert incident["urgency"] == "critical"
    assert incident["municipality"] == "Дзержинск"  # the page's municipality: no place in text
    assert incident["first_reply_due_at"] > incident["opened_at"]
    [event] = list(ctx.db["incident_events"].rows)
    assert (event["event"], event["new_status"], event["actor"]) == ("opened", "new", "system:ingest")


def test_chatter_is_stored_and_labelled_without_an_incident(ctx):
    report = ingest(ctx, [post(ctx, "Продам гараж недорого, пишите в личку")])
    assert report.stored == 1 and report.incidents == 0
    assert count(ctx, "labels") == 1 and count(ctx, "incidents") == 0


def test_an_edit_keeps_the_old_text(ctx):
    ingest(ctx, [post(ctx, "нет воды")])
    report = ingest(ctx, [post(ctx, "нет воды уже 3 дня на Гайдара")])
    assert report.edited == 1
    [row] = list(ctx.db["posts"].rows)
    assert row["text"] == "нет воды уже 3 дня на Гайдара" and row["edited_at"]
    assert [v["text"] for v in ctx.db["post_versions"].rows] == ["нет воды"]


def test_cursor_is_stored_with_the_batch(ctx):
    ingest(ctx, [post(ctx, "яма во дворе")], cursor=("vk:-100003", {"offset": 42}))
    row = next(ctx.db["sources"].rows_where("key = ?", ["vk:-100003"]))
    assert row["cursor"] == '{"offset": 42}' and row["last_success_at"]


def test_unknown_source_is_created_as_watched(ctx):
    ingest(ctx, [post(ctx, "нет света", source="telegram:-1009", channel="telegram")])
    row = next(ctx.db["sources"].rows_where("key = ?", ["telegram:-1009"]))
    assert (row["platform"], row["role"]) == ("telegram", "watched")


def test_hostile_and_huge_texts_are_kept_whole(ctx):
    huge = "Прошу принять меры! " + "нет воды " * 120_000  # about 1 MB
    report = ingest(ctx, [post(ctx, huge, "-100003_1_1"), post(ctx, "😡😡😡", "-100003_1_2"),
                          post(ctx, "", "-100003_1_3")])
    assert report.stored == 3
    texts = sorted(len(r["text"]) for r in ctx.db["posts"].rows)
    assert texts[-1] == len(huge)


def test_routing_sends_health_to_the_ministry_and_the_rest_to_the_administration(ctx):
    ingest(ctx, [post(ctx, "В поликлинике №5 невозможно записаться к терапевту, талонов нет месяц", "a"),
                 post(ctx, "Яма на дороге на проспекте Ленина, вчера пробил колесо", "b")])
    rows = ctx.db.execute(
        "SELECT i.topic, o.key FROM incidents i JOIN organisations o ON o.id = i.organisation_id"
        " ORDER BY i.id").fetchall()
    assert rows == [("health", "minzdrav"), ("roads_transport", "adm-dzr")]


def test_a_deleted_post_is_marked_and_keeps_its_incident(ctx):
    ingest(ctx, [post(ctx, "Третий день нет воды на Гайдара 12")])
    report = ingest(ctx, [], deleted=[("vk:-100003", "-100003_10_1")])
    assert report.deleted == 1
    [row] = list(ctx.db["posts"].rows)
    assert row["deleted_at"] and ctx.db["incidents"].count == 1
    assert ingest(ctx, [], deleted=[("vk:-100003", "-100003_10_1")]).deleted == 0


def test_a_deleted_post_that_comes_back_is_restored(ctx):
    ingest(ctx, [post(ctx, "Третий день нет воды на Гайдара 12")])
    ingest(ctx, [], deleted=[("vk:-100003", "-100003_10_1")])
    report = ingest(ctx, [post(ctx, "Третий день нет воды на Гайдара 12")])
    assert report.restored == 1 and report.duplicates == 0
    [row] = list(ctx.db["posts"].rows)
    assert row["deleted_at"] is None and ctx.db["incidents"].count == 1


def test_an_organisations_own_post_and_reply_open_no_incident(ctx):
    announcement = Post("vk:-100003", "-100003_20", "vk_post",
                        "Уважаемые жители! 18 ноября плановое отключение горячей воды на ул. Гайдара",
                        ctx.clock.now(), author_id="vk:-100003")
    our_reply = Post("vk:-100002", "-100002_5_9", "vk_comment",
                     "Здравствуйте! Жалоба на яму передана в управление дорог, ремонт до 25 ноября.",
                     ctx.clock.now(), author_id="vk:-100001")
    resident = Post("vk:-100003", "-100003_20_1", "vk_comment", "Опять нет горячей воды, третий день!",
                    ctx.clock.now(), author_id="vk:5123", parent_id="-100003_20")
    report = ingest(ctx, [announcement, our_reply, resident])
    assert report.stored == 3 and report.incidents == 1
    [incident] = list(ctx.db["incidents"].rows)
    assert ctx.db["posts"].get(incident["post_id"])["author_id"] == "vk:5123"


OUTAGE = ("Информация об аварии на водоводе в Сормовском районе. Сегодня в 06:15 произошёл порыв водовода "
          "на ул. Коминтерна, без холодного водоснабжения остались дома по улицам Коминтерна и Ефремова.")


def reply(ctx, text, external_id, parent_id):
    return Post("vk:-100003", external_id, "vk_comment", text, ctx.clock.now(), author_name="Олег",
                parent_id=parent_id)


def topic_of(ctx, external_id):
    return ctx.db.execute("SELECT l.topic FROM labels l JOIN posts p ON p.id = l.post_id"
                          " WHERE p.external_id = ?", [external_id]).fetchone()[0]


def test_a_reply_takes_the_topic_of_the_discussion_from_the_batch_or_the_store(ctx):
    """«Звоните на 122» under a water outage is about water, whether the outage post
    came in the same batch or days before."""
    outage = Post("vk:-100003", "-100003_50", "vk_post", OUTAGE, ctx.clock.now(), author_name="Водоканал")
    ingest(ctx, [outage, reply(ctx, "Звоните на 122 и жалуйтесь, иногда помогает", "-100003_50_1", "-100003_50")])
    ingest(ctx, [reply(ctx, "Ефремова 12 — тоже сухо, жена соседям звонит", "-100003_50_2", "-100003_50_1")])
    assert topic_of(ctx, "-100003_50_1") == topic_of(ctx, "-100003_50_2") == "housing"
    alone = ingest(ctx, [post(ctx, "Звоните на 122 и жалуйтесь, иногда помогает", "-100003_60")])
    assert alone.stored == 1 and topic_of(ctx, "-100003_60") == "other"


def test_an_incident_is_opened_with_the_deadlines_recompute_would_store(ctx):
    from monitor.incidents.deadlines import recompute

    ingest(ctx, [post(ctx, "В подъезде сильно пахнет газом, дети дома, приезжайте срочно!"),
                 post(ctx, "Яма на дороге у школы на Гайдара, машины бьют колёса", "-100003_10_2")])
    for opened in list(ctx.db["incidents"].rows):
        with ctx.db.atomic():
            again = recompute(ctx, opened["id"])
        assert {k: again[k] for k in opened} == opened
        assert opened["next_check_at"] and opened["next_due_at"]
