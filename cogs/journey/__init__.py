"""The member journey: visitor -> audience -> participant -> regular -> champion."""
