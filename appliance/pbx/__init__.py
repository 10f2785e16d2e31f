"""The PBX bridge: our ACD engine on one side, a PBX adapter (simulator, Asterisk AMI, CSTA) on the other."""
