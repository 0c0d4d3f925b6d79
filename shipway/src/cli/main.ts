#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('shipway').description('shipway: plan, publish, promote and roll out a service');
program.parse();
