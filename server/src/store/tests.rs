use super::*;
use crate::schedule::{Day, Rule, Schedule};

fn tuesday() -> NewMeeting {
    NewMeeting {
        slug: "tuesday-night".into(),
        title: "Tuesday night".into(),
        description: "Open discussion".into(),
        language: "en".into(),
        types: vec!["O".into(), "D".into()],
        location: "Chicago, IL, USA".into(),
        guidelines: "What is said here stays here.".into(),
        readings: vec![Reading { title: "Preamble".into(), text: "One.\n\nTwo.".into() }],
        settings: MeetingSettings { waiting_room: Some(true), share_seconds: Some(180), ..Default::default() },
        schedule: Some(Schedule {
            time_zone: "America/New_York".into(),
            rules: vec![Rule::Weekly { days: vec![Day::Tue], time: "19:00".into() }],
            duration_minutes: 90,
            opens_minutes_before: Some(15),
        }),
        listed: true,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("haven-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_new_file_is_migrated_in_wal_mode_and_reopens_with_its_data() {
    let dir = temp_dir("reopen");
    {
        let store = Store::open(&dir).unwrap();
        store.run_blocking(|db| db.create_meeting(&tuesday(), 100)).unwrap();
        let mode: String = store.run_blocking(|db| Ok(db.conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?)).unwrap();
        assert_eq!(mode, "wal");
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.run_blocking(|db| db.schema_version()).unwrap(), MIGRATIONS.len() as i64);
    let m = store.run_blocking(|db| db.meeting("tuesday-night")).unwrap();
    assert_eq!(m.settings.share_seconds, Some(180));
    assert_eq!(m.schedule, tuesday().schedule);
    assert_eq!(m.types, ["O", "D"]);
    assert_eq!(m.location, "Chicago, IL, USA");
    assert_eq!(m.readings, tuesday().readings);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_database_from_a_newer_haven_is_refused() {
    let dir = temp_dir("newer");
    Store::open(&dir).unwrap().run_blocking(|db| Ok(db.conn.pragma_update(None, "user_version", 99)?)).unwrap();
    let err = Store::open(&dir).err().expect("refused");
    assert_eq!(err.code(), "schema_too_new");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn slugs_are_unique_and_edits_merge() {
    let mut db = Db::open_in_memory();
    db.create_meeting(&tuesday(), 1).unwrap();
    assert_eq!(db.create_meeting(&tuesday(), 2).unwrap_err().code(), "slug_taken");
    let edit = MeetingEdit {
        title: Some("Tuesday late".into()),
        settings: Some(MeetingSettings { chat_enabled: Some(false), ..Default::default() }),
        schedule: Some(None),
        types: Some(vec!["SP".into()]),
        location: Some("Evanston, IL, USA".into()),
        readings: Some(vec![]),
        archived: Some(true),
        ..Default::default()
    };
    let m = db.edit_meeting("tuesday-night", &edit, 5).unwrap();
    assert_eq!(m.title, "Tuesday late");
    assert_eq!(m.settings.share_seconds, Some(180), "settings not named are kept");
    assert_eq!(m.settings.chat_enabled, Some(false));
    assert_eq!(m.schedule, None);
    assert_eq!(m.types, ["SP"]);
    assert_eq!(m.location, "Evanston, IL, USA");
    assert!(m.readings.is_empty());
    assert!(m.archived && m.listed);
    assert_eq!(m.updated_at, 5);
    assert_eq!(db.edit_meeting("nope", &edit, 5).unwrap_err().code(), "unknown_meeting");
    assert_eq!(db.meetings().unwrap().len(), 1);
}

#[test]
fn keys_are_issued_revoked_and_rotated_and_only_live_hashes_reach_the_hub() {
    let mut db = Db::open_in_memory();
    db.create_meeting(&tuesday(), 1).unwrap();
    let chair = db.add_key("tuesday-night", "Tuesday chair", &[1; 32], 2).unwrap();
    let cochair = db.add_key("tuesday-night", "Co-chair", &[2; 32], 2).unwrap();
    assert_eq!(db.standing_one("tuesday-night").unwrap().key_hashes, vec![[1; 32], [2; 32]]);
    db.revoke_key("tuesday-night", chair.id, 3).unwrap();
    assert_eq!(db.revoke_key("tuesday-night", chair.id, 3).unwrap_err().code(), "unknown_key", "revoked once");
    let rotated = db.rotate_key("tuesday-night", cochair.id, &[3; 32], 4).unwrap();
    assert_eq!(rotated.label, "Co-chair");
    assert_eq!(db.standing_one("tuesday-night").unwrap().key_hashes, vec![[3; 32]]);
    assert_eq!(db.rotate_key("tuesday-night", cochair.id, &[4; 32], 5).unwrap_err().code(), "unknown_key");
    assert_eq!(db.rotate_key("nope", rotated.id, &[4; 32], 5).unwrap_err().code(), "unknown_meeting");
    let keys = db.keys("tuesday-night").unwrap();
    assert_eq!(keys.iter().filter(|k| k.revoked_at.is_none()).count(), 1);
    assert_eq!(keys.len(), 3);
    // Another meeting's key id is unknown here.
    db.create_meeting(&NewMeeting { slug: "other".into(), title: "Other".into(), ..Default::default() }, 1).unwrap();
    assert_eq!(db.revoke_key("other", rotated.id, 6).unwrap_err().code(), "unknown_key");
}

#[test]
fn an_encrypted_meetings_key_id_is_kept_changed_and_forgotten() {
    let mut db = Db::open_in_memory();
    db.create_meeting(&tuesday(), 1).unwrap();
    assert_eq!(db.meeting("tuesday-night").unwrap().e2ee_key_id, None, "none until links are made");
    assert_eq!(db.set_e2ee_key_id("tuesday-night", Some(0xbeef), 2).unwrap().e2ee_key_id, Some(0xbeef));
    let m = db.set_e2ee_key_id("tuesday-night", Some(0), 3).unwrap();
    assert_eq!((m.e2ee_key_id, m.updated_at), (Some(0), 3));
    assert_eq!(db.standing_one("tuesday-night").unwrap().meeting.e2ee_key_id, Some(0));
    // An edit of anything else keeps it.
    let edit = MeetingEdit { title: Some("Tuesday late".into()), ..Default::default() };
    assert_eq!(db.edit_meeting("tuesday-night", &edit, 4).unwrap().e2ee_key_id, Some(0));
    assert_eq!(db.set_e2ee_key_id("tuesday-night", None, 5).unwrap().e2ee_key_id, None);
    assert_eq!(db.set_e2ee_key_id("nope", Some(1), 5).unwrap_err().code(), "unknown_meeting");
}

#[test]
fn sessions_expire_and_admin_names_are_unique() {
    let mut db = Db::open_in_memory();
    assert_eq!(db.admin_count().unwrap(), 0);
    let id = db.create_admin("ops", "$argon2id$stub", 1).unwrap();
    assert_eq!(db.create_admin("ops", "$argon2id$stub", 1).unwrap_err().code(), "admin_exists");
    assert_eq!(db.admin_password("ops").unwrap().unwrap().0, id);
    db.create_session(&[9; 32], id, 100).unwrap();
    assert_eq!(db.session_admin(&[9; 32], 99).unwrap(), Some(id));
    assert_eq!(db.session_admin(&[9; 32], 100).unwrap(), None);
    db.create_session(&[8; 32], id, 100).unwrap();
    db.delete_session(&[8; 32]).unwrap();
    assert_eq!(db.session_admin(&[8; 32], 1).unwrap(), None);
}
