"""3.x Contacts and presence (protocol.html 1.4 and 1.5; docs/protocol.md#packets)."""
from __future__ import annotations

import pytest

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import DescriptionTooLong
from gadu.server.config import ECHO_UIN

from .helpers import logged_in_on_peer, logged_in_on_server
from .results import case


@case("3.1", "Empty list", "An empty contact list is sent as GG_LIST_EMPTY (protocol.html 1.5).")
def test_empty_list(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.notify([])
    wire.expect(pk.ListEmpty)


@case("3.2", "Short list", "A list of up to 400 contacts is one GG_NOTIFY_LAST of (uin, GG_USER_NORMAL) entries.")
def test_short_list(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.notify([1002, 1003, 1004])
    last = wire.expect(pk.NotifyLast)
    assert [(e.uin, e.user_type) for e in last.entries] == [(u, pk.GG_USER_NORMAL) for u in (1002, 1003, 1004)]
    assert not [p for p in wire.quiet_for(0.05) if isinstance(p, pk.NotifyFirst)]


@case("3.3", "401 contacts", "A list longer than 400 goes in chunks of 400: GG_NOTIFY_FIRST for every "
      "chunk but the last, GG_NOTIFY_LAST for the last (libgadu).")
def test_long_list(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    contacts = list(range(10000, 10401))
    session.notify(contacts)
    first = wire.expect(pk.NotifyFirst)
    last = wire.expect(pk.NotifyLast)
    assert [e.uin for e in first.entries] + [e.uin for e in last.entries] == contacts
    assert len(first.entries) == 400


@case("3.4", "Exactly 800 contacts", "800 contacts are exactly two packets: FIRST with 400, LAST with 400; "
      "no empty trailing LAST.")
def test_list_on_chunk_boundary(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.notify(list(range(20000, 20800)))
    first = wire.expect(pk.NotifyFirst)
    last = wire.expect(pk.NotifyLast)
    assert (len(first.entries), len(last.entries)) == (400, 400)
    assert not [p for p in wire.quiet_for(0.05) if isinstance(p, (pk.NotifyFirst, pk.NotifyLast))]


@case("3.5", "NOTIFY_REPLY80 read", "Every entry of a GG_NOTIFY_REPLY80 reaches the application with uin, "
      "status and description.")
def test_notify_reply_entries(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    entries = (pk.StatusEntry(1002, pk.GG_STATUS_AVAIL), pk.StatusEntry(1003, pk.GG_STATUS_BUSY_DESCR, "zajęty"))
    wire.send_packets(pk.NotifyReply80(entries))
    reply = session.wait(ev.ContactsReply)
    assert [(e.uin, e.status, e.description) for e in reply.entries] == [
        (1002, pk.GG_STATUS_AVAIL, ""), (1003, pk.GG_STATUS_BUSY_DESCR, "zajęty")]


@case("3.6", "Online contacts in the reply", "After sending its list, a client learns the status of its "
      "online contacts from the server (the echo contact is always online).")
def test_reply_from_server(driver, server_address):
    session = logged_in_on_server(driver, server_address)
    session.notify([ECHO_UIN, 1004])
    reply = session.wait(ev.ContactsReply)
    assert [e.uin for e in reply.entries] == [ECHO_UIN]


@case("3.7", "STATUS80 read", "A GG_STATUS80 becomes a status change with the contact's uin, status and "
      "UTF-8 description.")
def test_status80(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(pk.Status80(pk.StatusEntry(1003, pk.GG_STATUS_DND_DESCR, "nie przeszkadzać")))
    change = session.wait(ev.StatusChanged)
    assert (change.uin, change.status, change.description) == (1003, pk.GG_STATUS_DND_DESCR, "nie przeszkadzać")


@case("3.8", "Watchers see a status change", "When a contact changes status with a description, a logged-in "
      "watcher is told (end to end through the reference server).")
def test_watcher_sees_change(driver, server_address):
    contact = logged_in_on_server(driver, server_address, 1002, "bob")
    watcher = logged_in_on_server(driver, server_address, 1001, "alice")
    watcher.notify([1002])
    watcher.wait(ev.ContactsReply)
    contact.change_status(pk.GG_STATUS_BUSY_DESCR, "na spotkaniu")
    change = watcher.wait(ev.StatusChanged, lambda e: e.uin == 1002 and e.status == pk.GG_STATUS_BUSY_DESCR)
    assert change.description == "na spotkaniu"


@case("3.9", "Logoff seen as NOT_AVAIL", "A contact that logs off is shown to its watchers as not available.")
def test_watcher_sees_logoff(driver, server_address):
    watcher = logged_in_on_server(driver, server_address, 1001, "alice")
    contact = logged_in_on_server(driver, server_address, 1002, "bob")
    watcher.notify([1002])
    watcher.wait(ev.ContactsReply)
    contact.logoff("pa pa")
    change = watcher.wait(ev.StatusChanged, lambda e: e.uin == 1002)
    assert change.status in (pk.GG_STATUS_NOT_AVAIL, pk.GG_STATUS_NOT_AVAIL_DESCR)


@case("3.10", "ADD_NOTIFY", "Adding a contact sends GG_ADD_NOTIFY with the uin and GG_USER_NORMAL.")
def test_add_notify(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.add_contact(1004)
    added = wire.expect(pk.AddNotify)
    assert (added.uin, added.user_type) == (1004, pk.GG_USER_NORMAL)


@case("3.11", "REMOVE_NOTIFY", "Removing a contact sends GG_REMOVE_NOTIFY with the uin.")
def test_remove_notify(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.remove_contact(1004)
    assert wire.expect(pk.RemoveNotify).uin == 1004


@case("3.12", "NEW_STATUS80", "A status change sends GG_NEW_STATUS80 with the status, libgadu's flags and "
      "the UTF-8 description.")
def test_new_status(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.change_status(pk.GG_STATUS_AVAIL_DESCR, "Gadu-Gadu ♥")
    status = wire.expect(pk.NewStatus80)
    assert (status.status, status.description) == (pk.GG_STATUS_AVAIL_DESCR, "Gadu-Gadu ♥")
    assert status.flags == pk.GG8_FLAGS


@case("3.13", "Description limit", "A description over 255 bytes of UTF-8 is refused on our side with a "
      "typed error before anything is sent (protocol.html 1.4).")
def test_description_too_long(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    with pytest.raises(DescriptionTooLong):
        session.change_status(pk.GG_STATUS_AVAIL_DESCR, "ż" * 128)
    assert not [p for p in wire.quiet_for(0.05) if isinstance(p, pk.NewStatus80)]
    session.change_status(pk.GG_STATUS_AVAIL_DESCR, "ż" * 127 + "x")
    assert len(wire.expect(pk.NewStatus80).description.encode()) == 255


@case("3.14", "Invisible is not seen", "A contact that is invisible is shown to watchers as not available.")
def test_invisible(driver, server_address):
    watcher = logged_in_on_server(driver, server_address, 1001, "alice")
    logged_in_on_server(driver, server_address, 1003, "carol", status=pk.GG_STATUS_INVISIBLE)
    watcher.notify([1003, ECHO_UIN])
    reply = watcher.wait(ev.ContactsReply)
    assert 1003 not in [e.uin for e in reply.entries]


@case("3.15", "Long reply split", "A reply too long for one frame arrives as several GG_NOTIFY_REPLY80 "
      "packets, all of whose entries reach the application.")
def test_split_reply(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    entries = [pk.StatusEntry(30000 + n, pk.GG_STATUS_AVAIL_DESCR, "d" * 255) for n in range(300)]
    wire.send_packets(*pk.split_notify_reply(entries))
    seen = []
    while len(seen) < 300:
        seen += [e.uin for e in session.wait(ev.ContactsReply).entries]
    assert seen == [30000 + n for n in range(300)]
