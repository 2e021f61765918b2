#!/usr/bin/env node
console.log('dingtalk-skills: under construction');
