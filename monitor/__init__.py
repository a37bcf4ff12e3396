"""talentwatch: watches news feeds for AI personnel moves and alerts on losses."""
