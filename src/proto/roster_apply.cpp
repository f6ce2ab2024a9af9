// Roster::apply, alone in its file: exercise 10 (exercises/10-roster.cpp) replaces it.
#include <algorithm>

#include "proto/chat.hpp"

namespace ws::chat {

bool Roster::apply(const RoomEvent& e) {
    auto found = std::find(names_.begin(), names_.end(), e.name);
    switch (e.kind) {
        case RoomEvent::Kind::login:
            if (found != names_.end()) return false;  // already here (the snapshot had them)
            names_.push_back(e.name);
            return true;
        case RoomEvent::Kind::logout:
            if (found == names_.end()) return false;  // already gone
            names_.erase(found);
            return true;
        case RoomEvent::Kind::chat:
            return false;
    }
    return false;
}

}  // namespace ws::chat
