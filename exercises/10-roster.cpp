// Exercise 10 (lesson 10): the room's list, kept from its events.
//
// Every server of the room keeps the list of who is in it (every server's people, in the order
// they joined) from the events Redis hands out: a LOGIN adds its name at the end, a LOGOUT
// removes its name, a CHAT changes nothing. A server that joins late starts from a snapshot of
// the names, and the events published just before the snapshot arrive after it too: so a LOGIN
// of a name already there, or a LOGOUT of a name not there, must change nothing (applying an
// event twice is the same as once).
//
//   names_ = [alice]       LOGIN bob    → [alice, bob]   returns true
//   names_ = [alice, bob]  LOGIN alice  → [alice, bob]   returns false (already there)
//   names_ = [alice, bob]  LOGOUT alice → [bob]          returns true
//   names_ = [bob]         LOGOUT carol → [bob]          returns false (not there)
//
// Write Roster::apply(e): change names_ (a std::vector<std::string>) as e says; return true
// when it changed. e.kind is chat::RoomEvent::Kind::login, logout or chat; e.name the name.
//
// Check it: make exercises. Run lesson 10 on it: build/bin/student/lesson10-scale-out --demo
// (every server keeps its list with your function).
// The library's own answer is in src/proto/roster_apply.cpp: look only when you are done.
#include "proto/chat.hpp"

namespace ws::chat {

bool Roster::apply(const RoomEvent& e) {
    (void)e;  // TODO: add e.name on a LOGIN, remove it on a LOGOUT, only when that changes names_
    return false;
}

}  // namespace ws::chat
